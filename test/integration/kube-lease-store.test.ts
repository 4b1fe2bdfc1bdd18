/**
 * The production Lease adapter (src/kube/api.ts) through @kubernetes/client-node's real code
 * paths, against the Kubernetes API emulator reached with a kubeconfig: what the election relies
 * on (404 as "no Lease", 409 on a stale resourceVersion, MicroTime round trips) and what users see
 * when it fails (403 with the RBAC rule, a deadline on a hanging server).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/errors.ts';
import { connectKube, KubeLeaseStore } from '../../src/kube/api.ts';
import { microTime } from '../../src/leader/lease.ts';
import { DEFAULT_KUBE_USER, startKubeApi, type KubeApiServer } from '../support/kube-api.ts';

let kube: KubeApiServer;
let dir: string;
let previous: string | undefined;

beforeAll(async () => {
  kube = await startKubeApi();
  dir = await mkdtemp(join(tmpdir(), 'lease-store-'));
  previous = process.env.KUBECONFIG;
  process.env.KUBECONFIG = await kube.writeKubeconfig(dir, { namespace: 'openfaas' });
});

afterAll(async () => {
  if (previous === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = previous;
  await kube.close();
  await rm(dir, { recursive: true, force: true });
});

async function store(name: string, timeoutMs = 2_000): Promise<KubeLeaseStore> {
  return new KubeLeaseStore(await connectKube(timeoutMs), 'openfaas', name);
}

const signal = (): AbortSignal => AbortSignal.timeout(5_000);
const spec = (holder: string, at: number) => ({ holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: microTime(at), renewTime: microTime(at), leaseTransitions: 0 });

describe('KubeLeaseStore through client-node', () => {
  it('should read a missing Lease as undefined, create it, and round-trip its MicroTimes and annotations', async () => {
    const s = await store('round-trip');
    expect(await s.get(signal())).toBeUndefined();
    const at = Date.parse('2026-12-02T08:00:00.123Z');
    const created = await s.create({ spec: spec('r1', at), annotations: { 'cron.openfaas.com/handed-through': '2026-12-02T08:00:00.000Z' } }, signal());
    expect(created.spec).toEqual({ ...spec('r1', at), renewTime: '2026-12-02T08:00:00.123000Z', acquireTime: '2026-12-02T08:00:00.123000Z' });
    const read = await s.get(signal());
    expect(read).toEqual(created);
    expect(kube.getObject('leases', 'openfaas', 'round-trip')?.spec).toMatchObject({ renewTime: '2026-12-02T08:00:00.123000Z' });
  });

  it('should refuse a replace on a stale resourceVersion with a 409, and a second create with one too', async () => {
    const s = await store('stale');
    const first = await s.create({ spec: spec('r1', Date.now()), annotations: {} }, signal());
    const second = await s.replace(first.resourceVersion, { spec: spec('r1', Date.now()), annotations: {} }, signal());
    expect(second.resourceVersion).not.toBe(first.resourceVersion);
    const stale = await s.replace(first.resourceVersion, { spec: spec('r2', Date.now()), annotations: {} }, signal()).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(KubeApiError);
    expect(stale).toMatchObject({ status: 409, reason: 'Conflict' });
    expect(await s.create({ spec: spec('r3', Date.now()), annotations: {} }, signal()).catch((e: unknown) => e)).toMatchObject({ status: 409, reason: 'AlreadyExists' });
    expect((await s.get(signal()))?.spec.holderIdentity).toBe('r1');
  });

  it('should explain a 403 with the RBAC rule, and dry-run a write without changing anything', async () => {
    const s = await store('guarded');
    const lease = await s.create({ spec: spec('r1', Date.now()), annotations: {} }, signal());
    await s.dryRunWrite(lease, signal());
    expect((await s.get(signal()))?.resourceVersion).toBe(lease.resourceVersion);
    kube.setRules(DEFAULT_KUBE_USER, [{ verbs: ['get'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['guarded'] }]);
    try {
      const refused = await s.replace(lease.resourceVersion, { spec: spec('r1', Date.now()), annotations: {} }, signal()).catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 403, reason: 'Forbidden' });
      expect((refused as KubeApiError).hint).toBe(
        'RBAC does not allow "update" on Lease openfaas/guarded; add a Role in namespace openfaas with apiGroups: [coordination.k8s.io] resources: [leases] resourceNames: [guarded] verbs: [update], bound to the connector\'s ServiceAccount (the Helm chart creates it when leaderElection is enabled)',
      );
      expect(await s.dryRunWrite(lease, signal()).catch((e: unknown) => e)).toMatchObject({ status: 403 });
    } finally {
      kube.setRules(DEFAULT_KUBE_USER, undefined);
    }
  });

  it('should give up on a hanging API server at its deadline and say so', async () => {
    const s = await store('slow', 300);
    kube.slow(2_000);
    try {
      const started = Date.now();
      const err = await s.get(signal()).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(err).toMatchObject({ status: undefined, message: 'Kubernetes API: get leases openfaas/slow: no answer within 300 ms' });
      expect((err as KubeApiError).hint).toMatch(/^the Kubernetes API server did not answer \(kubeconfig context/);
    } finally {
      kube.slow(0);
    }
  });
});
