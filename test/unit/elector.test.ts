import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { LeaderElector } from '../../src/leader/elector.ts';
import type { Lease } from '../../src/leader/lease.ts';
import { FakeLeaseStore } from '../helpers/fake-lease-store.ts';
import { captureLogs } from '../helpers/logs.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

const T0 = Date.parse('2026-12-02T08:00:00.000Z');
const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

interface Replica {
  readonly name: string;
  readonly elector: LeaderElector;
  readonly started: Lease[];
  readonly stopped: string[];
  readonly logs: ReturnType<typeof captureLogs>;
  record: Record<string, string>;
}

const running: LeaderElector[] = [];

afterEach(async () => {
  for (const e of running.splice(0)) await e.stop(0);
});

function replica(store: FakeLeaseStore, clock: Clock & { monotonic(): number }, name: string): Replica {
  const logs = captureLogs();
  const r: Replica = {
    name,
    started: [],
    stopped: [],
    logs,
    record: {},
    elector: undefined as unknown as LeaderElector,
  };
  const elector = new LeaderElector({
    store: store.client(name),
    identity: name,
    leaseDurationMs: LEASE,
    renewDeadlineMs: RENEW,
    retryPeriodMs: RETRY,
    clock,
    monotonic: () => clock.monotonic(),
    logger: logs.logger,
    random: () => 0,
    record: () => r.record,
    onStartedLeading: (lease) => r.started.push(lease),
    onStoppedLeading: (reason) => r.stopped.push(reason),
  });
  (r as { elector: LeaderElector }).elector = elector;
  running.push(elector);
  return r;
}

/** Replica a creates the Lease and leads; then b starts, as a standby. */
async function leaderAndStandby(): Promise<{ clock: ManualClock; store: FakeLeaseStore; a: Replica; b: Replica }> {
  const clock = new ManualClock(T0);
  const store = new FakeLeaseStore(clock);
  const a = replica(store, clock, 'a');
  a.elector.start();
  await clock.advanceAsync(0);
  const b = replica(store, clock, 'b');
  b.elector.start();
  return { clock, store, a, b };
}

describe('leader election', () => {
  it('should create the Lease when there is none, lead at once, and renew every retry_period', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const a = replica(store, clock, 'a');
    a.elector.start();
    await clock.advanceAsync(0);
    expect(a.elector.canLead()).toBe(true);
    expect(a.started).toHaveLength(1);
    expect(store.lease?.spec).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-12-02T08:00:00.000000Z',
      renewTime: '2026-12-02T08:00:00.000000Z',
      leaseTransitions: 0,
    });
    await clock.advanceAsync(10_000);
    expect(store.writes('a').map((w) => w.at - T0)).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
    expect(a.logs.messages()).toEqual(['Leadership acquired']);
  });

  it('should leave a held Lease alone while its holder renews, and follow the holder', async () => {
    const { clock, store, b } = await leaderAndStandby();
    await clock.advanceAsync(60_000);
    expect(b.elector.canLead()).toBe(false);
    expect(b.elector.role).toBe('standby');
    expect(b.elector.holder).toBe('a');
    expect(store.writes('b')).toEqual([]);
    expect(b.logs.named('Following leader')).toEqual([expect.objectContaining({ leader: 'a', lease: 'openfaas/cron-connector' })]);
  });

  it('should take the Lease only lease_duration after the last renewal it saw, on its own monotonic clock', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    // a leader that renewed at T0 and then died
    store.set({ spec: { holderIdentity: 'dead', leaseDurationSeconds: 15, renewTime: '2026-12-02T08:00:00.000000Z', acquireTime: '2026-12-02T08:00:00.000000Z', leaseTransitions: 3 }, annotations: { keep: 'me' } });
    const b = replica(store, clock, 'b');
    b.elector.start();
    // a wall-clock step changes nothing: durations are measured on the monotonic clock
    clock.jump(3_600_000);
    await clock.advanceAsync(14_999);
    expect(b.elector.canLead()).toBe(false);
    // attempts at 0, 2000, ..., 14000, then 16000: the first at or after 15000 takes it
    await clock.advanceAsync(1_001);
    expect(b.elector.canLead()).toBe(true);
    expect(store.writes('b').map((w) => clock.monotonic() - (clock.now() - w.at))).toEqual([T0 + 16_000]);
    expect(b.started[0]?.spec.holderIdentity).toBe('dead');
    expect(store.lease?.spec.holderIdentity).toBe('b');
    expect(store.lease?.spec.leaseTransitions).toBe(4);
    expect(store.lease?.annotations).toEqual({ keep: 'me' });
    expect(b.logs.named('Leadership acquired')).toEqual([expect.objectContaining({ identity: 'b', previous: 'dead', transitions: 4 })]);
  });

  it('should stop leading renew_deadline after the start of its last successful renewal, before any standby may take over', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const a = replica(store, clock, 'a');
    a.elector.start();
    await clock.advanceAsync(4_000); // renewed at 0, 2000, 4000
    const b = replica(store, clock, 'b');
    b.elector.start(); // sees the renewal of 4000 at 4000
    await clock.advanceAsync(0);
    store.down = true;
    await clock.advanceAsync(9_999); // 13,999: 4000 + renew_deadline is 14,000
    expect(a.elector.canLead()).toBe(true);
    await clock.advanceAsync(1);
    expect(a.elector.canLead()).toBe(false);
    expect(a.stopped).toEqual([expect.stringMatching(/^no renewal of the Lease succeeded for renew_deadline \(10000 ms\): .*ECONNREFUSED/)]);
    expect(a.logs.named('Leadership lost')).toHaveLength(1);
    // the API server is back at once; b saw the last change at 4000 and waits until 19,000
    store.down = false;
    await clock.advanceAsync(4_999);
    expect(b.elector.canLead()).toBe(false);
    await clock.advanceAsync(1_001); // b's attempts are at 4000 + 2000k: 20,000 is the first after 19,000
    // a re-read its own record (holder a): the record is a's and nobody took it, so a leads again
    const holder = store.lease?.spec.holderIdentity;
    expect(holder === 'a' ? a.elector.canLead() : b.elector.canLead()).toBe(true);
    expect(a.elector.canLead() && b.elector.canLead()).toBe(false);
  });

  it('should never let two replicas lead in the same instant, whatever the outage', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const replicas = ['a', 'b', 'c'].map((n) => replica(store, clock, n));
    for (const r of replicas) r.elector.start();
    for (let ms = 0; ms < 120_000; ms += 250) {
      // down for 12 s out of every 30 s, with 300 ms of latency
      store.down = ms % 30_000 >= 10_000 && ms % 30_000 < 22_000;
      store.latencyMs = 300;
      await clock.advanceAsync(250);
      expect(replicas.filter((r) => r.elector.canLead()).length).toBeLessThanOrEqual(1);
    }
    expect(replicas.reduce((n, r) => n + r.started.length, 0)).toBeGreaterThan(1);
  });

  it('should re-read a conflicting Lease and step down when another replica holds it', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const a = replica(store, clock, 'a');
    a.elector.start();
    await clock.advanceAsync(0);
    store.set({ spec: { ...store.lease?.spec, holderIdentity: 'intruder' }, annotations: {} });
    await clock.advanceAsync(2_000);
    expect(a.elector.canLead()).toBe(false);
    expect(a.stopped).toEqual(['the Lease was taken by intruder']);
    expect(a.elector.holder).toBe('intruder');
  });

  it('should write the record with the renewals and at once when asked, one write at a time', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    store.latencyMs = 100;
    const a = replica(store, clock, 'a');
    a.elector.start();
    await clock.advanceAsync(200); // get at 0, create at 100
    expect(a.elector.canLead()).toBe(true);
    a.record = { 'cron.openfaas.com/handed-through': 'one' };
    a.elector.requestWrite();
    a.elector.requestWrite();
    await clock.advanceAsync(0);
    a.record = { 'cron.openfaas.com/handed-through': 'two' };
    a.elector.requestWrite();
    await clock.advanceAsync(300);
    expect(store.writes('a').map((w) => w.at - T0)).toEqual([100, 200, 300]);
    expect(store.lease?.annotations).toEqual({ 'cron.openfaas.com/handed-through': 'two' });
  });

  it('should release the Lease on stop, so a standby takes over within retry_period', async () => {
    const { clock, store, a, b } = await leaderAndStandby();
    await clock.advanceAsync(5_000);
    a.record = { 'cron.openfaas.com/handed-through': 'final' };
    await a.elector.stop(1_000);
    expect(store.lease?.spec.holderIdentity).toBe('');
    expect(store.lease?.annotations).toEqual({ 'cron.openfaas.com/handed-through': 'final' });
    expect(a.stopped).toEqual(['released']);
    const released = clock.now();
    await clock.advanceAsync(RETRY);
    expect(b.elector.canLead()).toBe(true);
    expect((store.writes('b')[0]?.at ?? Number.NaN) - released).toBeLessThanOrEqual(RETRY);
    expect(b.started[0]?.annotations).toEqual({ 'cron.openfaas.com/handed-through': 'final' });
  });

  it('should wait out its own identity on a record it did not write (a restart, or two processes on one host)', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    store.set({ spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-12-02T08:00:00.000000Z', leaseTransitions: 0 }, annotations: {} });
    const a = replica(store, clock, 'a');
    a.elector.start();
    await clock.advanceAsync(14_000);
    expect(a.elector.canLead()).toBe(false);
    await clock.advanceAsync(2_000);
    expect(a.elector.canLead()).toBe(true);
  });

  it('should take a lost race for a free Lease quietly and follow the winner', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    store.set({ spec: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: '2026-12-02T08:00:00.000000Z', leaseTransitions: 2 }, annotations: {} });
    store.latencyMs = 10;
    const b = replica(store, clock, 'b');
    const c = replica(store, clock, 'c');
    b.elector.start();
    c.elector.start();
    await clock.advanceAsync(5_000);
    const [winner, loser] = b.elector.canLead() ? [b, c] : [c, b];
    expect(winner.elector.canLead()).toBe(true);
    expect(loser.elector.canLead()).toBe(false);
    expect(loser.logs.entries.filter((e) => e.level === 'warn')).toEqual([]);
    expect(loser.logs.named('Lease taken by another replica first')).toHaveLength(1);
    expect(loser.logs.named('Following leader')).toEqual([expect.objectContaining({ leader: winner.name })]);
  });

  it('should release a Lease written behind its back while it still holds it', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const a = replica(store, clock, 'a');
    a.elector.start();
    await clock.advanceAsync(0);
    // a renewal stored although its answer never came back (or a kubectl annotate): a newer version
    store.set({ spec: { ...store.lease?.spec }, annotations: { edited: 'yes' } });
    await a.elector.stop(1_000);
    expect(store.lease?.spec.holderIdentity).toBe('');
    expect(a.logs.named('Lease released')).toHaveLength(1);
  });
});
