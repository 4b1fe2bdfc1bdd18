/**
 * Three real connector processes (dist/main.js) with leader_election=true against the gateway
 * emulator and the Kubernetes API emulator, reached through a kubeconfig as in production
 * outside a cluster. Every-second schedules; short election durations so a fail-over fits a test.
 * The figures over many fail-overs are benchmarks (BENCHMARKS.md), not asserted here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runConnector, type ConnectorProcess } from '../support/connector.ts';
import { cronFunction } from '../support/gateway.ts';
import { DEFAULT_KUBE_USER, startKubeApi, type KubeApiServer } from '../support/kube-api.ts';
import { callsOf, is, world, type World } from '../helpers/fixture.ts';
import { freePort } from '../helpers/ports.ts';

const ELECTION = { leader_election: 'true', POD_NAMESPACE: 'openfaas', lease_name: 'cron', lease_duration: '3s', renew_deadline: '2s', retry_period: '500ms' };
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(): Promise<{ w: World; kube: KubeApiServer; kubeconfig: string; start: (name: string) => Promise<ConnectorProcess> }> {
  const w = await world();
  w.gateway.setFunctions('dev', [cronFunction('tick', '* * * * * *'), cronFunction('tock', '* * * * * *')]);
  const kube = await startKubeApi();
  cleanups.push(() => kube.close());
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = await kube.writeKubeconfig(dir, { namespace: 'openfaas' });
  const start = (name: string): Promise<ConnectorProcess> => w.start({ ...ELECTION, POD_NAME: name, KUBECONFIG: kubeconfig });
  return { w, kube, kubeconfig, start };
}

/** Execution ids of the invocations so far, with the replicas' duplicates if any. */
function executionIds(w: World): string[] {
  return [...callsOf(w.gateway, 'tick', 'dev'), ...callsOf(w.gateway, 'tock', 'dev')].map((c) => c.headers['x-cron-execution-id'] ?? '');
}

/** Nominal seconds of one function's invocations, sorted. */
function slotsOf(w: World, name: string): number[] {
  return callsOf(w.gateway, name, 'dev')
    .map((c) => Date.parse(c.headers['x-cron-scheduled-time'] ?? '') / 1000)
    .sort((a, b) => a - b);
}

/** No execution id twice, and for each function every second from its first slot to its last. */
function expectEverySlotOnce(w: World): void {
  const ids = executionIds(w);
  expect(new Set(ids).size).toBe(ids.length);
  for (const name of ['tick', 'tock']) {
    const slots = slotsOf(w, name);
    const first = slots[0] ?? 0;
    expect(slots).toEqual(Array.from({ length: slots.length }, (_, i) => first + i));
  }
}

function leaderOf(replicas: readonly ConnectorProcess[]): ConnectorProcess | undefined {
  return replicas.find((r) => r.countLogs(is('Leadership acquired')) > r.countLogs(is('Leadership lost')) + r.countLogs(is('Lease released')));
}

describe('leader election with three replicas', () => {
  it('should have one replica invoke, and after kill -9 of the leader another take over with no slot sent twice or lost', async () => {
    const { w, kube, start } = await cluster();
    const replicas = await Promise.all(['r1', 'r2', 'r3'].map((n) => start(n)));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 3, 15_000, 'three slots invoked');
    const leader = leaderOf(replicas);
    expect(leader).toBeDefined();
    const standbys = replicas.filter((r) => r !== leader);
    for (const s of standbys) await s.waitForLog(is('Following leader'), 5_000, 'a standby following');
    expect(kube.getObject('leases', 'openfaas', 'cron')?.spec).toMatchObject({ holderIdentity: leader === replicas[0] ? 'r1' : leader === replicas[1] ? 'r2' : 'r3' });
    // between two slots: a kill just after a slot is sent, before its record is written, is the
    // one window ADR 7 admits (the slot goes out again with the same execution id)
    await new Promise((resolve) => setTimeout(resolve, (1_500 - (Date.now() % 1_000)) % 1_000));
    const killedAt = Date.now();
    leader?.signal('SIGKILL');
    await Promise.any(standbys.map((s) => s.waitForLog(is('Leadership acquired'), 10_000, 'a new leader')));
    const before = callsOf(w.gateway, 'tick', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= before + 3, 10_000, 'the new leader invoking');
    const firstAfter = callsOf(w.gateway, 'tick', 'dev').find((c) => c.at > killedAt + 50);
    // lease_duration + retry_period + 1 s
    expect((firstAfter?.at ?? Number.POSITIVE_INFINITY) - killedAt).toBeLessThanOrEqual(4_500);
    // the missed ones caught up
    expectEverySlotOnce(w);
    // the slots between the kill and the take-over were run late, by the default catch-up (all)
    const newLeader = leaderOf(standbys);
    expect(newLeader?.logs.find(is('Missed'))).toMatchObject({ catchup: 'all', missed: 0 });
    expect(kube.getObject('leases', 'openfaas', 'cron')?.metadata?.annotations?.['cron.openfaas.com/handed-through']).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('should hand over within retry_period on SIGTERM, releasing the Lease, with every slot once', async () => {
    const { w, kube, start } = await cluster();
    const replicas = await Promise.all(['r1', 'r2'].map((n) => start(n)));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 3, 15_000, 'three slots invoked');
    const leader = leaderOf(replicas);
    const standby = replicas.find((r) => r !== leader);
    await leader?.stop('SIGTERM');
    expect(leader?.countLogs(is('Lease released')), leader?.tail()).toBe(1);
    const acquired = await standby?.waitForLog(is('Leadership acquired'), 3_000, 'the standby taking over');
    expect(acquired).toBeDefined();
    const before = callsOf(w.gateway, 'tick', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= before + 2, 10_000, 'the new leader invoking');
    expectEverySlotOnce(w);
    expect(kube.getObject('leases', 'openfaas', 'cron')?.spec).toMatchObject({ holderIdentity: standby === replicas[0] ? 'r1' : 'r2' });
  });

  it('should keep every slot once through a rolling restart of all three replicas', async () => {
    const { w, start } = await cluster();
    let replicas = await Promise.all(['r1', 'r2', 'r3'].map((n) => start(n)));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 2, 15_000, 'two slots invoked');
    // as a Deployment rolls: a new Pod first (maxSurge 1, maxUnavailable 0), then an old one stops
    for (const [i, old] of [...replicas].entries()) {
      const fresh = await start(`new-${i}`);
      await fresh.waitForLog((l) => l.msg === 'Following leader' || l.msg === 'Leadership acquired', 10_000, 'the new replica in the election');
      await old.stop('SIGTERM');
      replicas = [...replicas.filter((r) => r !== old), fresh];
    }
    const before = callsOf(w.gateway, 'tick', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= before + 2, 10_000, 'invocations after the restart');
    expectEverySlotOnce(w);
    expect(replicas.filter((r) => leaderOf([r]) !== undefined)).toHaveLength(1);
  });

  it('should stop invoking while the API server is down and run the missed slots once it is back', async () => {
    const { w, kube, start } = await cluster();
    const replicas = await Promise.all(['r1', 'r2'].map((n) => start(n)));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 2, 15_000, 'two slots invoked');
    const leader = leaderOf(replicas);
    kube.down(true);
    const downAt = Date.now();
    await leader?.waitForLog(is('Leadership lost'), 5_000, 'the leader stepping down');
    // renew_deadline (2 s) after its last renewal, and nobody after that
    const lastDuringOutage = callsOf(w.gateway, 'tick', 'dev').at(-1)?.at ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 10_000 - (Date.now() - downAt)));
    expect(callsOf(w.gateway, 'tick', 'dev').filter((c) => c.at > lastDuringOutage)).toEqual([]);
    expect(lastDuringOutage - downAt).toBeLessThanOrEqual(2_000);
    const acquiredBefore = replicas.map((r) => r.countLogs(is('Leadership acquired')));
    kube.down(false);
    await w.gateway.waitFor(() => replicas.some((r, i) => r.countLogs(is('Leadership acquired')) > (acquiredBefore[i] ?? 0)), 10_000, 'a leader again');
    const back = callsOf(w.gateway, 'tick', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= back + 2, 10_000, 'invocations after the outage');
    for (const name of ['tick', 'tock']) {
      const slots = slotsOf(w, name);
      const distinct = [...new Set(slots)];
      const first = distinct[0] ?? 0;
      // every slot, the missed ones run late
      expect(distinct).toEqual(Array.from({ length: distinct.length }, (_, i) => first + i));
      // at most the one slot in doubt (sent as the outage began, its record not written) twice,
      // and only when another replica takes over (ADR 7); with the same execution id by design
      const twice = distinct.filter((slot) => slots.filter((x) => x === slot).length > 1);
      expect(twice.length).toBeLessThanOrEqual(1);
      for (const slot of twice) expect(Math.abs(slot * 1000 - downAt)).toBeLessThanOrEqual(2_000);
    }
  });

  it('should show each replica\'s role on /readyz, /schedules and /metrics, standbys ready', async () => {
    const { w, kube, kubeconfig } = await cluster();
    const ports = [await freePort(), await freePort()];
    const replicas = await Promise.all(
      ['r1', 'r2'].map((name, i) => w.start({ ...ELECTION, POD_NAME: name, KUBECONFIG: kubeconfig, http_port: String(ports[i]) })),
    );
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 2, 15_000, 'two slots invoked');
    const leaderIndex = replicas.findIndex((r) => leaderOf([r]) !== undefined);
    expect(leaderIndex).toBeGreaterThanOrEqual(0);
    const holder = leaderIndex === 0 ? 'r1' : 'r2';
    for (const [i, port] of ports.entries()) {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const doc = (await (await fetch(`${base}/schedules`)).json()) as { leadership: Record<string, unknown>; total: { scheduled: number } };
      expect(doc.total.scheduled).toBe(2);
      expect(doc.leadership).toMatchObject({ role: i === leaderIndex ? 'leader' : 'standby', identity: i === 0 ? 'r1' : 'r2', lease: 'openfaas/cron', holder });
      expect(doc.leadership.handedThrough).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/));
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^cron_connector_leader ${i === leaderIndex ? 1 : 0}$`, 'm'));
      expect(metrics).toMatch(/^cron_connector_lease_renewal_failures_total 0$/m);
    }
    expect(kube.writes().length).toBeGreaterThan(0);
  });

  it('should carry a single replica across its own restart: the slots missed while it was down run once it is back', async () => {
    const { w, start } = await cluster();
    const first = await start('only');
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 2, 15_000, 'two slots invoked');
    await new Promise((resolve) => setTimeout(resolve, (1_500 - (Date.now() % 1_000)) % 1_000));
    first.signal('SIGKILL');
    await first.exited;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // the same identity on a record it did not write: waited out like any holder, then caught up
    const again = await start('only');
    const missed = await again.waitForLog(is('Missed', { function: 'tick.dev' }), 10_000, 'the missed slots run');
    expect(missed).toMatchObject({ catchup: 'all', missed: 0 });
    expect(missed.running as number).toBeGreaterThanOrEqual(2);
    const now = callsOf(w.gateway, 'tick', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= now + 2, 10_000, 'invocations after the restart');
    expectEverySlotOnce(w);
  });

  it('should refuse to start without a Kubernetes API, saying how to fix it', async () => {
    const w = await world();
    const c = await w.start({ ...ELECTION, POD_NAME: 'r1', KUBECONFIG: '', HOME: '/nonexistent' });
    const status = await c.exited;
    expect(status.code).toBe(1);
    expect(c.logs.find(is('Cannot start'))).toMatchObject({ error: expect.stringContaining('no Kubernetes API to reach') as unknown, hint: expect.stringContaining('KUBECONFIG') as unknown });
  });
});

describe('doctor with leader election', () => {
  interface DoctorJson {
    readonly ok: boolean;
    readonly checks: ReadonlyArray<{ name: string; status: string; summary: string; details?: string[]; cause?: string; fix?: string }>;
  }
  const leaseCheck = (stdout: string): DoctorJson['checks'][number] | undefined => (JSON.parse(stdout) as DoctorJson).checks.find((c) => c.name === 'leader-election');

  it('should show the holder and the record, and name the RBAC rule that is missing', async () => {
    const { w, kube, kubeconfig, start } = await cluster();
    const env = { ...w.env, ...ELECTION, POD_NAME: 'doctor', KUBECONFIG: kubeconfig };
    const fresh = await runConnector(env, ['doctor', '--json']);
    expect(leaseCheck(fresh.stdout)).toMatchObject({ status: 'pass', details: expect.arrayContaining(['the Lease does not exist yet: the first replica to campaign creates it']) as unknown });
    // the dry run wrote nothing
    expect(kube.getObject('leases', 'openfaas', 'cron')).toBeUndefined();
    const leader = await start('r1');
    await leader.waitForLog(is('Leadership acquired'), 10_000, 'a leader');
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 2, 10_000, 'two slots');
    const led = await runConnector(env, ['doctor', '--json']);
    const c = leaseCheck(led.stdout);
    expect(c?.summary).toBe('Lease openfaas/cron can be read and written; leader r1');
    expect(c?.details).toEqual(expect.arrayContaining([expect.stringMatching(/^holder: r1, renewed \d/), expect.stringMatching(/^progress record: every slot up to \d{4}-.*Z handed to the gateway$/)]));
    kube.setRules(DEFAULT_KUBE_USER, [{ verbs: ['get'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['cron'] }]);
    const denied = await runConnector(env, ['doctor', '--json']);
    expect(denied.code).toBe(1);
    expect(leaseCheck(denied.stdout)).toMatchObject({
      status: 'fail',
      cause: 'RBAC does not allow "update" on Lease openfaas/cron',
      fix: expect.stringContaining('apiGroups: [coordination.k8s.io] resources: [leases] resourceNames: [cron] verbs: [update]') as unknown,
    });
  });
});
