/**
 * Leadership in-process: replicas with their own Scheduler, Invoker and Leadership on one
 * in-memory Lease and one ManualClock (a replica's wall clock may be offset), a gateway fake per
 * replica. Asserted: every slot is handed over once across a fail-over, a hand-over, and clocks
 * that disagree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { executionId } from '../../src/delivery.ts';
import { Invoker } from '../../src/invoker.ts';
import { Leadership } from '../../src/leader/leadership.ts';
import { HANDED_THROUGH_ANNOTATION } from '../../src/leader/progress.ts';
import { selectFunction, type DesiredFunction } from '../../src/schedule/annotations.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { FakeInvokeClient } from '../helpers/fake-invoke-client.ts';
import { FakeLeaseStore } from '../helpers/fake-lease-store.ts';
import { captureLogs } from '../helpers/logs.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { RecordingMetrics } from '../helpers/recording-metrics.ts';

const T0 = Date.parse('2026-12-02T08:00:00.000Z');

function cronFunction(name: string, schedule: string, annotations: Record<string, string> = {}): DesiredFunction {
  const selection = selectFunction(
    { name, namespace: 'dev', annotations: { topic: 'cron-function', schedule, ...annotations } },
    { topic: 'cron-function', timezone: 'UTC', async: false, retries: 0 },
  );
  if (selection.kind !== 'selected') throw new Error(`${name} not selected`);
  return selection.fn;
}

/** The same timers, the wall clock `offsetMs` away (a replica whose clock is wrong). */
function offsetClock(base: ManualClock, offsetMs: number): Clock & { monotonic(): number } {
  return {
    now: () => base.now() + offsetMs,
    monotonic: () => base.monotonic(),
    setTimer: (fn, ms) => base.setTimer(fn, ms),
    soon: (fn) => base.soon(fn),
  };
}

interface Replica {
  readonly name: string;
  readonly client: FakeInvokeClient;
  readonly scheduler: Scheduler<DesiredFunction>;
  readonly leadership: Leadership;
  readonly logs: ReturnType<typeof captureLogs>;
  readonly metrics: RecordingMetrics & { leaderCalls: boolean[] };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function replica(store: FakeLeaseStore, base: ManualClock, name: string, functions: DesiredFunction[], offsetMs = 0): Replica {
  const clock = offsetClock(base, offsetMs);
  const client = new FakeInvokeClient(clock);
  const logs = captureLogs();
  const metrics = Object.assign(new RecordingMetrics(), { leaderCalls: [] as boolean[] });
  const map = new Map(functions.map((f) => [f.id, f]));
  // the invoker and the scheduler reach the leadership created after them
  const ref: { leadership?: Leadership } = {};
  const invoker = new Invoker({
    client,
    clock,
    logger: logs.logger,
    metrics,
    maxInflight: 64,
    upstreamTimeoutMs: 60_000,
    progress: { opened: (n) => ref.leadership?.opened(n), handed: (n) => ref.leadership?.handed(n), mayStart: () => ref.leadership?.mayStart() ?? false },
  });
  const scheduler = new Scheduler<DesiredFunction>({ clock, onFire: (e) => ref.leadership?.fire(e) });
  const leadership = new Leadership({
    store: store.client(name),
    settings: { identity: name, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    clock,
    monotonic: () => clock.monotonic(),
    logger: logs.logger,
    metrics: { leader: (on) => metrics.leaderCalls.push(on), leaseWrite: () => undefined, renewalFailure: () => undefined },
    firedThrough: (now) => scheduler.firedThrough(now),
    functions: () => map,
    random: () => 0,
  });
  ref.leadership = leadership;
  leadership.attach(invoker);
  for (const f of functions) for (const s of f.schedules) scheduler.add(`${f.id}|${s.key}`, s, f);
  scheduler.start();
  leadership.start();
  const r: Replica = { name, client, scheduler, leadership, logs, metrics };
  stops.push(async () => {
    scheduler.stop();
    await leadership.stop(0);
  });
  return r;
}

/** Every (function, slot) sent by these replicas, as "name@seconds after T0", with duplicates. */
function sentSlots(...replicas: Replica[]): string[] {
  return replicas.flatMap((r) => r.client.calls.filter((c) => c.req.attempt === 1).map((c) => `${c.req.name}@${(c.req.scheduledAt - T0) / 1000}`));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A replica dies: no more slots, no more API requests. */
function crash(store: FakeLeaseStore, r: Replica): void {
  r.scheduler.stop();
  store.partitioned.add(r.name);
}

describe('leadership: once per slot across fail-over', () => {
  it('should let only the leader invoke, and the standby take over after a crash with every slot once', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const fns = [cronFunction('tick', '* * * * * *'), cronFunction('tock', '* * * * * *')];
    const a = replica(store, clock, 'a', fns);
    await clock.advanceAsync(100);
    const b = replica(store, clock, 'b', fns);
    await clock.advanceAsync(5_400); // slots 1..5 by a
    expect(b.client.calls).toEqual([]);
    expect(store.lease?.annotations[HANDED_THROUGH_ANNOTATION]).toBe('2026-12-02T08:00:05.000Z');
    crash(store, a);
    // b polls at 0.1 + 2k s: it sees a's last write (slot 5's record) at 6.1 s, so the Lease is
    // a's until 21.1 s on b's clock, and b takes it at its first attempt after that, 22.1 s
    await clock.advanceAsync(16_500);
    expect(b.client.calls).toEqual([]);
    await clock.advanceAsync(8_000); // to 30.0 s
    const sent = sentSlots(a, b);
    const expected = fns.flatMap((f) => range(1, 30).map((s) => `${f.name}@${s}`));
    expect(sent.toSorted()).toEqual(expected.toSorted());
    // the missed ones were sent late at the take-over, the rest on time
    const takeover = b.client.calls[0]?.at ?? 0;
    expect(takeover - T0).toBe(22_100);
    expect(b.logs.named('Missed')[0]).toMatchObject({ function: 'tick.dev', missed: 0, running: 17, catchup: 'all', since: '2026-12-02T08:00:05.001Z' });
    expect(b.metrics.leaderCalls).toEqual([true]);
  });

  it('should hand over within retry_period on a graceful stop, with no slot sent twice or lost', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const fns = [cronFunction('tick', '* * * * * *')];
    const a = replica(store, clock, 'a', fns);
    await clock.advanceAsync(100);
    const b = replica(store, clock, 'b', fns);
    await clock.advanceAsync(6_200);
    a.scheduler.stop();
    a.leadership.stopFiring();
    await a.leadership.stop(1_000);
    expect(store.lease?.spec.holderIdentity).toBe('');
    await clock.advanceAsync(10_000);
    expect(sentSlots(a, b).toSorted()).toEqual(range(1, 16).map((s) => `tick@${s}`).toSorted());
    const firstByB = b.client.calls[0]?.at ?? 0;
    expect(firstByB - (T0 + 6_300)).toBeLessThanOrEqual(2_000);
  });

  it('should neither repeat nor skip a slot when the new leader\'s clock is 1 s ahead or behind', async () => {
    for (const offset of [1_000, -1_000, -3_000]) {
      const clock = new ManualClock(T0);
      const store = new FakeLeaseStore(clock);
      const fns = [cronFunction('tick', '* * * * * *')];
      const a = replica(store, clock, 'a', fns);
      await clock.advanceAsync(100);
      const b = replica(store, clock, 'b', fns, offset);
      await clock.advanceAsync(6_200);
      a.scheduler.stop();
      a.leadership.stopFiring();
      await a.leadership.stop(1_000);
      await clock.advanceAsync(10_000);
      const sent = sentSlots(a, b);
      expect(new Set(sent).size, `offset ${offset}`).toBe(sent.length);
      // every slot up to what b's clock has reached, once
      const last = Math.floor((clock.now() + offset - T0) / 1000);
      expect(sent.toSorted(), `offset ${offset}`).toEqual(range(1, last).map((s) => `tick@${s}`).toSorted());
      for (const stop of stops.splice(0)) await stop();
    }
  });

  it('should send the same execution id for a slot whichever replica sends it', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const fns = [cronFunction('tick', '* * * * * *')];
    const a = replica(store, clock, 'a', fns);
    await clock.advanceAsync(1_100);
    const ids = a.client.calls.map((c) => c.req.executionId);
    expect(ids).toEqual([executionId('tick.dev', '* * * * * *', T0 + 1_000)]);
  });

  it('should follow each function\'s catch-up policy for the slots missed while nobody led', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const fns = [
      cronFunction('all', '* * * * * *'),
      cronFunction('latest', '* * * * * *', { 'com.openfaas.cron.catchup': 'latest' }),
      cronFunction('none', '* * * * * *', { 'com.openfaas.cron.catchup': 'none' }),
      cronFunction('recent', '* * * * * *', { 'com.openfaas.cron.deadline': '5s' }),
    ];
    const a = replica(store, clock, 'a', fns);
    await clock.advanceAsync(100);
    const b = replica(store, clock, 'b', fns);
    await clock.advanceAsync(5_400);
    crash(store, a);
    await clock.advanceAsync(16_600); // b takes over at 22.1 s: slots 6..22 were missed
    const late = (name: string): number[] =>
      b.client.calls.filter((c) => c.req.name === name && c.at === T0 + 22_100).map((c) => (c.req.scheduledAt - T0) / 1000);
    expect(late('all')).toEqual(range(6, 22));
    expect(late('latest')).toEqual([22]);
    expect(late('none')).toEqual([]);
    // 5 s before 22.1 s is 17.1 s
    expect(late('recent')).toEqual(range(18, 22));
    expect(b.metrics.of('skipped').toSorted()).toEqual([['missed', 12], ['missed', 16], ['missed', 17]].toSorted());
    // from then on, every function on time
    await clock.advanceAsync(1_000);
    expect(b.client.calls.filter((c) => c.at === T0 + 23_000).map((c) => c.req.name).toSorted()).toEqual(['all', 'latest', 'none', 'recent']);
  });

  it('should hold slots while the record cannot be written, and send them once it can, still leading', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const fns = [cronFunction('tick', '* * * * * *')];
    const a = replica(store, clock, 'a', fns);
    await clock.advanceAsync(2_500); // slots 1, 2 sent and recorded
    store.down = true;
    // 6.5 s: slot 3 goes out before the outage is noticed (the slot in doubt); its record fails,
    // so 4..6 are held
    await clock.advanceAsync(4_000);
    expect(sentSlots(a)).toEqual(['tick@1', 'tick@2', 'tick@3']);
    expect(a.leadership.leading).toBe(true);
    store.down = false;
    await clock.advanceAsync(2_000); // the next write succeeds: 4..6 go out late, 7 and 8 on time
    expect(sentSlots(a)).toEqual(range(1, 8).map((n) => `tick@${n}`));
    const late = a.client.calls.filter((c) => c.req.scheduledAt >= T0 + 4_000 && c.req.scheduledAt <= T0 + 6_000);
    expect(late.map((c) => c.at > T0 + 6_500)).toEqual([true, true, true]);
  });

  it('should resume from what it handed over itself when it takes its own Lease back after an outage', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const fns = [cronFunction('tick', '* * * * * *')];
    const a = replica(store, clock, 'a', fns);
    await clock.advanceAsync(1_500);
    // the outage begins just after slot 2 is sent, before its record is written
    await clock.advanceAsync(500);
    store.down = true;
    await clock.advanceAsync(20_000);
    expect(a.leadership.leading).toBe(false);
    expect(store.lease?.annotations[HANDED_THROUGH_ANNOTATION]).toBe('2026-12-02T08:00:01.000Z');
    store.down = false;
    await clock.advanceAsync(3_000);
    expect(a.leadership.leading).toBe(true);
    const sent = sentSlots(a);
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent.toSorted()).toEqual(range(1, 25).map((n) => `tick@${n}`).toSorted());
  });

  it('should not send a slot waiting out its jitter once it no longer leads; the next leader runs it', async () => {
    const clock = new ManualClock(T0);
    const store = new FakeLeaseStore(clock);
    const fns = [cronFunction('slow', '*/30 * * * * *', { 'com.openfaas.cron.jitter': '1h' })];
    const offset = fns[0]?.jitterOffsetMs ?? 0;
    expect(offset).toBeGreaterThan(30_000);
    const a = replica(store, clock, 'a', fns);
    await clock.advanceAsync(100);
    const b = replica(store, clock, 'b', fns);
    await clock.advanceAsync(30_000); // slot 30 fired by a, waiting for its offset
    crash(store, a); // a can no longer renew; its scheduler stops
    await clock.advanceAsync(offset + 1_000);
    expect(sentSlots(a)).toEqual([]);
    expect(sentSlots(b)).toContain('slow@30');
  });
});
