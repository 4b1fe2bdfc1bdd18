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
import type { ConnectorProcess } from '../support/connector.ts';
import { cronFunction } from '../support/gateway.ts';
import { startKubeApi, type KubeApiServer } from '../support/kube-api.ts';
import { callsOf, is, world, type World } from '../helpers/fixture.ts';

const ELECTION = { leader_election: 'true', POD_NAMESPACE: 'openfaas', lease_name: 'cron', lease_duration: '3s', renew_deadline: '2s', retry_period: '500ms' };
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(): Promise<{ w: World; kube: KubeApiServer; start: (name: string) => Promise<ConnectorProcess> }> {
  const w = await world();
  w.gateway.setFunctions('dev', [cronFunction('tick', '* * * * * *'), cronFunction('tock', '* * * * * *')]);
  const kube = await startKubeApi();
  cleanups.push(() => kube.close());
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = await kube.writeKubeconfig(dir, { namespace: 'openfaas' });
  const start = (name: string): Promise<ConnectorProcess> => w.start({ ...ELECTION, POD_NAME: name, KUBECONFIG: kubeconfig });
  return { w, kube, start };
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
    const killedAt = Date.now();
    leader?.signal('SIGKILL');
    await Promise.any(standbys.map((s) => s.waitForLog(is('Leadership acquired'), 10_000, 'a new leader')));
    const before = callsOf(w.gateway, 'tick', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= before + 3, 10_000, 'the new leader invoking');
    const firstAfter = callsOf(w.gateway, 'tick', 'dev').find((c) => c.at > killedAt + 50);
    // lease_duration + retry_period + 1 s
    expect((firstAfter?.at ?? Number.POSITIVE_INFINITY) - killedAt).toBeLessThanOrEqual(4_500);
    const ids = executionIds(w);
    expect(new Set(ids).size).toBe(ids.length);
    // every slot from the first to the last, for both functions (the missed ones caught up)
    for (const name of ['tick', 'tock']) {
      const slots = slotsOf(w, name);
      const first = slots[0] ?? 0;
      expect(slots).toEqual(Array.from({ length: slots.length }, (_, i) => first + i));
    }
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
    expect(leader?.countLogs(is('Lease released'))).toBe(1);
    const acquired = await standby?.waitForLog(is('Leadership acquired'), 3_000, 'the standby taking over');
    expect(acquired).toBeDefined();
    const before = callsOf(w.gateway, 'tick', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= before + 2, 10_000, 'the new leader invoking');
    const ids = executionIds(w);
    expect(new Set(ids).size).toBe(ids.length);
    for (const name of ['tick', 'tock']) {
      const slots = slotsOf(w, name);
      const first = slots[0] ?? 0;
      expect(slots).toEqual(Array.from({ length: slots.length }, (_, i) => first + i));
    }
    expect(kube.getObject('leases', 'openfaas', 'cron')?.spec).toMatchObject({ holderIdentity: standby === replicas[0] ? 'r1' : 'r2' });
  });

  it('should refuse to start without a Kubernetes API, saying how to fix it', async () => {
    const w = await world();
    const c = await w.start({ ...ELECTION, POD_NAME: 'r1', KUBECONFIG: '', HOME: '/nonexistent' });
    const status = await c.exited;
    expect(status.code).toBe(1);
    expect(c.logs.find(is('Cannot start'))).toMatchObject({ error: expect.stringContaining('no Kubernetes API to reach') as unknown, hint: expect.stringContaining('KUBECONFIG') as unknown });
  });
});
