import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, PatchStrategy, V1MicroTime, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Lease } from '@kubernetes/client-node';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_KUBE_USER, FIRST_RESOURCE_VERSION, OPTIMISTIC_LOCK_MESSAGE, startKubeApi } from '../support/kube-api.ts';
import type { KubeApiServer, KubeStatus } from '../support/kube-api.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';
import { createTestPki } from '../support/tls.ts';

const NS = 'openfaas';
const NAME = 'cron-connector';
const LEASES_PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
const USER = DEFAULT_KUBE_USER;

function lease(spec: V1Lease['spec'] = {}, name = NAME): V1Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: NS }, spec };
}

/** The ApiException client-node throws, with its body (client-node leaves it as text) parsed as a Status. */
async function apiError(promise: Promise<unknown>): Promise<{ code: number; status: KubeStatus; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = error.body;
    return {
      code: error.code,
      status: (typeof body === 'string' && body !== '' ? JSON.parse(body) : {}) as KubeStatus,
      headers: error.headers,
    };
  }
  throw new Error('expected the call to fail with an ApiException');
}

describe('Kubernetes API server emulator', () => {
  let issuer: KubeIssuer;
  let dir: string;
  let api: KubeApiServer;
  let kc: KubeConfig;
  let leases: CoordinationV1Api;
  let core: CoreV1Api;

  async function clientFor(token: string): Promise<KubeConfig> {
    const config = new KubeConfig();
    config.loadFromFile(await api.writeKubeconfig(dir, { token, fileName: `kubeconfig-${token.slice(0, 8)}` }));
    return config;
  }

  async function raw(method: string, path: string, init: { body?: string; contentType?: string; token?: string } = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? 'test-token'}`, accept: 'application/json' };
    if (init.contentType !== undefined) headers['content-type'] = init.contentType;
    const response = await fetch(`${api.url}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: init.body }) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    issuer = await KubeIssuer.create();
    dir = await mkdtemp(join(tmpdir(), 'kube-api-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    api = await startKubeApi({ issuer });
    kc = new KubeConfig();
    kc.loadFromFile(await api.writeKubeconfig(dir));
    leases = kc.makeApiClient(CoordinationV1Api);
    core = kc.makeApiClient(CoreV1Api);
  });
  afterEach(() => api.close());

  it('writes a kubeconfig client-node loads: token user, namespace in the context', () => {
    expect(kc.getCurrentCluster()?.server).toBe(api.url);
    expect(kc.getCurrentUser()?.token).toBe('test-token');
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(NS);
  });

  describe('Leases through client-node', () => {
    it('creates, reads and replaces, advancing the resourceVersion and keeping uid and creationTimestamp', async () => {
      const created = await leases.createNamespacedLease({
        namespace: NS,
        body: lease({ holderIdentity: 'pod-a', leaseDurationSeconds: 15, renewTime: new V1MicroTime('2026-12-02T07:00:00.123Z') }),
      });
      expect(created.metadata?.resourceVersion).toBe(String(FIRST_RESOURCE_VERSION + 1));
      expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
      expect(created.spec?.renewTime).toBe('2026-12-02T07:00:00.123000Z');

      const read = await leases.readNamespacedLease({ name: NAME, namespace: NS });
      expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
      expect(read.spec?.holderIdentity).toBe('pod-a');

      read.spec = { ...read.spec, holderIdentity: 'pod-b', renewTime: new V1MicroTime('2026-12-02T07:00:10.000Z') };
      const replaced = await leases.replaceNamespacedLease({ name: NAME, namespace: NS, body: read });
      expect(Number(replaced.metadata?.resourceVersion)).toBe(Number(created.metadata?.resourceVersion) + 1);
      expect(replaced.metadata?.uid).toBe(created.metadata?.uid);
      expect(replaced.metadata?.creationTimestamp).toEqual(created.metadata?.creationTimestamp);
      expect(api.getObject('leases', NS, NAME)?.spec).toEqual({ holderIdentity: 'pod-b', leaseDurationSeconds: 15, renewTime: '2026-12-02T07:00:10.000000Z' });
    });

    it('answers a stale replace with 409 Conflict and the real message, without applying it', async () => {
      const created = await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a' }) });
      api.setObject('leases', { ...lease({ holderIdentity: 'pod-b' }), metadata: { name: NAME, namespace: NS } });

      const stale = { ...created, spec: { holderIdentity: 'pod-c' } };
      const { code, status } = await apiError(leases.replaceNamespacedLease({ name: NAME, namespace: NS, body: stale }));
      expect(code).toBe(409);
      expect(status).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `Operation cannot be fulfilled on leases.coordination.k8s.io "cron-connector": ${OPTIMISTIC_LOCK_MESSAGE}`,
        reason: 'Conflict',
        details: { name: NAME, group: 'coordination.k8s.io', kind: 'leases' },
        code: 409,
      });
      expect(status.message).toBe(
        'Operation cannot be fulfilled on leases.coordination.k8s.io "cron-connector": the object has been modified; please apply your changes to the latest version and try again',
      );
      expect(api.getObject('leases', NS, NAME)?.spec).toEqual({ holderIdentity: 'pod-b' });
    });

    it('takes a replace without resourceVersion unconditionally for a ConfigMap but not for a Lease, like the real strategies', async () => {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'settings' }, data: { a: '1' } } });
      api.setObject('configmaps', { metadata: { name: 'settings', namespace: NS }, data: { a: '2' } });
      const replaced = await core.replaceNamespacedConfigMap({ name: 'settings', namespace: NS, body: { metadata: { name: 'settings' }, data: { a: '3' } } });
      expect(replaced.data).toEqual({ a: '3' });

      await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a' }) });
      const { code, status } = await apiError(leases.replaceNamespacedLease({ name: NAME, namespace: NS, body: lease({ holderIdentity: 'pod-b' }) }));
      expect(code).toBe(422);
      expect(status.reason).toBe('Invalid');
      expect(status.message).toBe(
        'leases.coordination.k8s.io "cron-connector" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update',
      );
    });

    it('applies a merge patch, with metadata.resourceVersion as a precondition', async () => {
      const created = await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a', leaseDurationSeconds: 15 }) });
      const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
      const rv = created.metadata?.resourceVersion;

      const patched = await leases.patchNamespacedLease(
        { name: NAME, namespace: NS, body: { metadata: { resourceVersion: rv }, spec: { holderIdentity: 'pod-b', leaseDurationSeconds: null } } },
        merge,
      );
      expect(patched.spec).toEqual({ holderIdentity: 'pod-b' });
      expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(rv));

      const stale = await apiError(leases.patchNamespacedLease({ name: NAME, namespace: NS, body: { metadata: { resourceVersion: rv }, spec: { holderIdentity: 'pod-c' } } }, merge));
      expect(stale.code).toBe(409);
      expect(stale.status.reason).toBe('Conflict');

      const unconditional = await leases.patchNamespacedLease({ name: NAME, namespace: NS, body: { spec: { holderIdentity: 'pod-d' } } }, merge);
      expect(unconditional.spec?.holderIdentity).toBe('pod-d');
      expect(api.requests.filter((r) => r.verb === 'patch').map((r) => r.contentType)).toEqual(Array(3).fill('application/merge-patch+json'));
    });

    it('applies a JSON patch whose test op passes, and answers 422 when it fails', async () => {
      await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a' }) });
      // client-node's default patch Content-Type is application/json-patch+json
      const patched = await leases.patchNamespacedLease({
        name: NAME,
        namespace: NS,
        body: [
          { op: 'test', path: '/spec/holderIdentity', value: 'pod-a' },
          { op: 'replace', path: '/spec/holderIdentity', value: 'pod-b' },
        ],
      });
      expect(patched.spec?.holderIdentity).toBe('pod-b');

      const failed = await apiError(
        leases.patchNamespacedLease({
          name: NAME,
          namespace: NS,
          body: [
            { op: 'test', path: '/spec/holderIdentity', value: 'pod-a' },
            { op: 'replace', path: '/spec/holderIdentity', value: 'pod-c' },
          ],
        }),
      );
      expect(failed.code).toBe(422);
      expect(failed.status).toMatchObject({
        reason: 'Invalid',
        message: 'the server rejected our request due to an error in our request',
        details: { causes: [{ reason: 'UnexpectedServerResponse', message: 'testing value /spec/holderIdentity failed: test failed' }] },
      });
      expect(api.getObject('leases', NS, NAME)?.spec).toEqual({ holderIdentity: 'pod-b' });
    });

    it('answers a read of a missing Lease with a NotFound Status', async () => {
      const { code, status } = await apiError(leases.readNamespacedLease({ name: 'missing', namespace: NS }));
      expect(code).toBe(404);
      expect(status).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'leases.coordination.k8s.io "missing" not found',
        reason: 'NotFound',
        details: { name: 'missing', group: 'coordination.k8s.io', kind: 'leases' },
        code: 404,
      });
    });

    it('rejects a millisecond renewTime (a plain Date) with 400, as the real MicroTime decoding does', async () => {
      const { code, status } = await apiError(
        leases.createNamespacedLease({ namespace: NS, body: lease({ renewTime: new Date('2026-12-02T07:00:00.103Z') }) }),
      );
      expect(code).toBe(400);
      expect(status.reason).toBe('BadRequest');
      expect(status.message).toBe(
        'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-12-02T07:00:00.103Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".103Z" as ".000000"',
      );
      expect(api.getObject('leases', NS, NAME)).toBeUndefined();
    });

    it('validates the spec: leaseDurationSeconds must be greater than 0', async () => {
      const { code, status } = await apiError(leases.createNamespacedLease({ namespace: NS, body: lease({ leaseDurationSeconds: 0 }) }));
      expect(code).toBe(422);
      expect(status).toMatchObject({
        reason: 'Invalid',
        message: 'Lease.coordination.k8s.io "cron-connector" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
        details: { name: NAME, group: 'coordination.k8s.io', kind: 'Lease', causes: [{ reason: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds' }] },
      });
    });

    it('answers a second create with 409 AlreadyExists and deletes with a Success Status', async () => {
      await leases.createNamespacedLease({ namespace: NS, body: lease() });
      const again = await apiError(leases.createNamespacedLease({ namespace: NS, body: lease() }));
      expect(again.code).toBe(409);
      expect(again.status.reason).toBe('AlreadyExists');
      expect(again.status.message).toBe('leases.coordination.k8s.io "cron-connector" already exists');

      const uid = api.getObject('leases', NS, NAME)?.metadata.uid;
      const deleted = await leases.deleteNamespacedLease({ name: NAME, namespace: NS });
      expect(deleted).toMatchObject({ status: 'Success', details: { name: NAME, group: 'coordination.k8s.io', kind: 'leases', uid } });
      expect((await apiError(leases.deleteNamespacedLease({ name: NAME, namespace: NS }))).code).toBe(404);
    });
  });

  describe('authentication and RBAC', () => {
    it('answers 401 to an unknown token', async () => {
      const stranger = (await clientFor('not-a-known-token')).makeApiClient(CoordinationV1Api);
      expect((await apiError(stranger.readNamespacedLease({ name: NAME, namespace: NS }))).code).toBe(401);

      const reply = await raw('GET', `${LEASES_PATH}/${NAME}`, { token: 'not-a-known-token' });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
      expect(api.requests.at(-1)).toMatchObject({ status: 401 });
      expect(api.requests.at(-1)?.user).toBeUndefined();
    });

    it('authenticates added users', async () => {
      api.addUser('other-token', 'jane');
      const other = (await clientFor('other-token')).makeApiClient(CoordinationV1Api);
      await other.createNamespacedLease({ namespace: NS, body: lease() });
      expect(api.writes().map((r) => r.user)).toEqual(['jane']);
    });

    it('answers 403 with the real message to what the rules do not allow', async () => {
      const created = await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a' }) });
      api.setRules(USER, [{ verbs: ['get', 'list', 'create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] }]);

      await leases.readNamespacedLease({ name: NAME, namespace: NS });
      const { code, status } = await apiError(leases.replaceNamespacedLease({ name: NAME, namespace: NS, body: created }));
      expect(code).toBe(403);
      expect(status).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'leases.coordination.k8s.io "cron-connector" is forbidden: User "system:serviceaccount:openfaas:cron-connector" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "openfaas"',
        reason: 'Forbidden',
        details: { name: NAME, group: 'coordination.k8s.io', kind: 'leases' },
        code: 403,
      });

      const configMap = await apiError(core.readNamespacedConfigMap({ name: 'settings', namespace: NS }));
      expect(configMap.status.message).toBe(
        'configmaps "settings" is forbidden: User "system:serviceaccount:openfaas:cron-connector" cannot get resource "configmaps" in API group "" in the namespace "openfaas"',
      );

      api.setRules(USER, undefined);
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'settings' } } });
    });

    it('never lets a rule with resourceNames allow a create, as the name is not known when authorizing', async () => {
      api.setRules(USER, [{ verbs: ['get', 'create', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [NAME] }]);
      const { code, status } = await apiError(leases.createNamespacedLease({ namespace: NS, body: lease() }));
      expect(code).toBe(403);
      expect(status.message).toBe(
        'leases.coordination.k8s.io is forbidden: User "system:serviceaccount:openfaas:cron-connector" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "openfaas"',
      );
      expect(status.details).toEqual({ group: 'coordination.k8s.io', kind: 'leases' });

      // once it exists (created by someone else), the named verbs work
      api.setObject('leases', { ...lease({ holderIdentity: 'pod-a' }), metadata: { name: NAME, namespace: NS } });
      const read = await leases.readNamespacedLease({ name: NAME, namespace: NS });
      await leases.replaceNamespacedLease({ name: NAME, namespace: NS, body: { ...read, spec: { holderIdentity: 'pod-b' } } });
      expect((await apiError(leases.readNamespacedLease({ name: 'other', namespace: NS }))).code).toBe(403);
    });
  });

  describe('TokenRequest', () => {
    it('mints a JWT for the ServiceAccount with the requested audiences and expiry', async () => {
      api.addServiceAccount(NS, NAME);
      const before = Math.floor(Date.now() / 1000);
      const reply = await core.createNamespacedServiceAccountToken({
        name: NAME,
        namespace: NS,
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://gateway.example.com'], expirationSeconds: 1200 } },
      });
      const token = reply.status?.token ?? '';
      const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks()), { issuer: issuer.iss, audience: 'https://gateway.example.com' });

      expect(payload.sub).toBe('system:serviceaccount:openfaas:cron-connector');
      expect(payload.aud).toEqual(['https://gateway.example.com']);
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(1200);
      expect(reply.status?.expirationTimestamp?.getTime()).toBe((payload.exp ?? 0) * 1000);
      expect(payload['kubernetes.io']).toEqual({ namespace: NS, serviceaccount: { name: NAME, uid: expect.any(String) } });
      expect(api.issuedTokens).toEqual([expect.objectContaining({ namespace: NS, serviceAccount: NAME, expirationSeconds: 1200, token })]);
      expect(api.requests.at(-1)).toMatchObject({ verb: 'create', resource: 'serviceaccounts/token', name: NAME, status: 201 });
    });

    it('defaults to the API audience and an hour; such a token authenticates to the emulator as the ServiceAccount', async () => {
      api.addServiceAccount(NS, 'minted');
      const reply = await core.createNamespacedServiceAccountToken({ name: 'minted', namespace: NS, body: { spec: { audiences: [] } } });
      const { payload } = await jwtVerify(reply.status?.token ?? '', createLocalJWKSet(issuer.jwks()));
      expect(payload.aud).toEqual([issuer.iss]);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

      const asMinted = (await clientFor(reply.status?.token ?? '')).makeApiClient(CoordinationV1Api);
      await asMinted.createNamespacedLease({ namespace: NS, body: lease() });
      expect(api.writes().at(-1)?.user).toBe('system:serviceaccount:openfaas:minted');
    });

    it('refuses an expiry under 10 minutes with 422', async () => {
      api.addServiceAccount(NS, NAME);
      const { code, status } = await apiError(
        core.createNamespacedServiceAccountToken({ name: NAME, namespace: NS, body: { spec: { audiences: ['x'], expirationSeconds: 599 } } }),
      );
      expect(code).toBe(422);
      expect(status.message).toBe(
        'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
      );
    });

    it('answers 404 for a ServiceAccount that does not exist', async () => {
      const { code, status } = await apiError(core.createNamespacedServiceAccountToken({ name: 'ghost', namespace: NS, body: { spec: { audiences: ['x'] } } }));
      expect(code).toBe(404);
      expect(status).toMatchObject({ reason: 'NotFound', message: 'serviceaccounts "ghost" not found', details: { name: 'ghost', kind: 'serviceaccounts' } });
      expect(api.issuedTokens).toEqual([]);
    });
  });

  describe('faults', () => {
    it('down: the client gets a network error, in-flight and keep-alive connections are cut, and it recovers', async () => {
      await leases.createNamespacedLease({ namespace: NS, body: lease() });
      api.down(true);
      const error = await leases.readNamespacedLease({ name: NAME, namespace: NS }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ApiException);
      api.down(false);
      expect((await leases.readNamespacedLease({ name: NAME, namespace: NS })).metadata?.name).toBe(NAME);

      // an idle keep-alive connection (fetch reuses it) is cut too
      expect((await raw('GET', `${LEASES_PATH}/${NAME}`)).status).toBe(200);
      await api.waitFor(() => api.openConnections > 0, 1_000, 'an open connection');
      api.down(true);
      await api.waitFor(() => api.openConnections === 0, 1_000, 'every connection closed');
      await expect(raw('GET', `${LEASES_PATH}/${NAME}`)).rejects.toThrow();
      api.down(false);
      expect((await raw('GET', `${LEASES_PATH}/${NAME}`)).status).toBe(200);

      // so is one with a request in flight
      api.slow(5_000);
      const pending = leases.readNamespacedLease({ name: NAME, namespace: NS }).catch((e: unknown) => e);
      const count = api.requests.length;
      await api.waitFor(() => api.requests.length > count, 1_000, 'the request to arrive');
      api.down(true);
      const cut = await pending;
      expect(cut).not.toBeInstanceOf(ApiException);
      expect(api.requests.at(-1)?.status).toBe(0);
    });

    it('slow: answers after the delay', async () => {
      api.slow(300);
      const started = Date.now();
      await apiError(leases.readNamespacedLease({ name: NAME, namespace: NS }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(295);
      api.slow(0);
      const quick = Date.now();
      await apiError(leases.readNamespacedLease({ name: NAME, namespace: NS }));
      expect(Date.now() - quick).toBeLessThan(295);
    });

    it('failNext: the next n requests get the Status, 503 and 429 with Retry-After', async () => {
      await leases.createNamespacedLease({ namespace: NS, body: lease() });
      api.failNext(2, 503);
      for (let i = 0; i < 2; i += 1) {
        const { code, status, headers } = await apiError(leases.readNamespacedLease({ name: NAME, namespace: NS }));
        expect(code).toBe(503);
        expect(status).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
        expect(headers['retry-after']).toBe('1');
      }
      expect((await leases.readNamespacedLease({ name: NAME, namespace: NS })).metadata?.name).toBe(NAME);

      api.failNext(1, 429);
      const throttled = await apiError(leases.readNamespacedLease({ name: NAME, namespace: NS }));
      expect(throttled).toMatchObject({ code: 429, status: { reason: 'TooManyRequests' }, headers: { 'retry-after': '1' } });
      api.failNext(1);
      expect((await apiError(leases.readNamespacedLease({ name: NAME, namespace: NS }))).status.reason).toBe('InternalError');
    });

    it('conflictNext: the next n updates answer 409 without applying, even with the right resourceVersion', async () => {
      const created = await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a' }) });
      api.conflictNext(1);
      const body = { ...created, spec: { holderIdentity: 'pod-b' } };
      const { code, status } = await apiError(leases.replaceNamespacedLease({ name: NAME, namespace: NS, body }));
      expect(code).toBe(409);
      expect(status.reason).toBe('Conflict');
      expect(api.getObject('leases', NS, NAME)?.metadata.resourceVersion).toBe(created.metadata?.resourceVersion);

      const replaced = await leases.replaceNamespacedLease({ name: NAME, namespace: NS, body });
      expect(replaced.spec?.holderIdentity).toBe('pod-b');
    });
  });

  it('records every request with its verb, resource, user and status', async () => {
    await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a' }) });
    const read = await leases.readNamespacedLease({ name: NAME, namespace: NS });
    await leases.listNamespacedLease({ namespace: NS });
    await leases.replaceNamespacedLease({ name: NAME, namespace: NS, body: { ...read, spec: { holderIdentity: 'pod-b' } } });
    await leases.patchNamespacedLease({ name: NAME, namespace: NS, body: [{ op: 'replace', path: '/spec/holderIdentity', value: 'pod-c' }] });
    await leases.deleteNamespacedLease({ name: NAME, namespace: NS });

    expect(api.requests.map((r) => [r.method, r.verb, r.status])).toEqual([
      ['POST', 'create', 201],
      ['GET', 'get', 200],
      ['GET', 'list', 200],
      ['PUT', 'update', 200],
      ['PATCH', 'patch', 200],
      ['DELETE', 'delete', 200],
    ]);
    expect(api.requests.every((r) => r.user === USER && r.resource === 'leases' && r.namespace === NS)).toBe(true);
    expect(api.requests[0]?.name).toBeUndefined();
    expect(api.requests[1]).toMatchObject({ path: `${LEASES_PATH}/${NAME}`, name: NAME });
    expect(api.requests[4]?.contentType).toBe('application/json-patch+json');
    expect(api.writes().map((r) => r.verb)).toEqual(['create', 'update', 'patch', 'delete']);
    expect(api.requests.every((r) => r.at >= Date.now() - 5_000 && r.at <= Date.now())).toBe(true);
    api.clearRequests();
    expect(api.requests).toEqual([]);
  });

  describe('raw HTTP shapes', () => {
    it('lists with the List kind and the current resourceVersion; items carry no apiVersion/kind', async () => {
      api.setObject('leases', { metadata: { name: 'b', namespace: NS }, spec: {} });
      api.setObject('leases', { metadata: { name: 'a', namespace: NS }, spec: {} });
      api.setObject('leases', { metadata: { name: 'c', namespace: 'elsewhere' }, spec: {} });
      const { status, body } = await raw('GET', LEASES_PATH);
      expect(status).toBe(200);
      expect(body).toMatchObject({ kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', metadata: { resourceVersion: api.resourceVersion } });
      const items = body.items as Array<Record<string, unknown>>;
      expect(items.map((item) => (item.metadata as { name: string }).name)).toEqual(['a', 'b']);
      expect(items[0]).not.toHaveProperty('kind');
    });

    it('answers unknown paths, unsupported methods, bad bodies and content types with Status bodies', async () => {
      expect(await raw('GET', '/apis/coordination.k8s.io/v1/namespaces/openfaas/widgets')).toMatchObject({
        status: 404,
        body: { kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'the server could not find the requested resource', details: {}, code: 404 },
      });
      expect(await raw('POST', `${LEASES_PATH}/${NAME}`, { body: '{}', contentType: 'application/json' })).toMatchObject({
        status: 405,
        body: { reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource', code: 405 },
      });
      const notJson = await raw('POST', LEASES_PATH, { body: 'not json', contentType: 'application/json' });
      expect(notJson).toMatchObject({ status: 400, body: { reason: 'BadRequest', code: 400 } });
      expect(notJson.body.message).toMatch(/^the object provided is unrecognized \(must be of type Lease\): couldn't get version\/kind; json parse error: /);
      expect(await raw('PATCH', `${LEASES_PATH}/${NAME}`, { body: '{}', contentType: 'application/json' })).toMatchObject({
        status: 415,
        body: { reason: 'UnsupportedMediaType' },
      });
      expect((await raw('GET', LEASES_PATH)).headers.get('content-type')).toBe('application/json');
    });

    it('drops unknown fields with a Warning header, and deletes with a resourceVersion precondition', async () => {
      const body = JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: NAME }, spec: { holderIdentity: 'a', bogus: 1 } });
      const created = await raw('POST', LEASES_PATH, { body, contentType: 'application/json' });
      expect(created.status).toBe(201);
      expect(created.headers.get('warning')).toBe('299 - "unknown field \\"spec.bogus\\""');
      expect(created.body.spec).toEqual({ holderIdentity: 'a' });

      const rv = (created.body.metadata as { resourceVersion: string }).resourceVersion;
      const options = (resourceVersion: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion } });
      const stale = await raw('DELETE', `${LEASES_PATH}/${NAME}`, { body: options('1'), contentType: 'application/json' });
      expect(stale.status).toBe(409);
      expect(stale.body.message).toBe(
        `Operation cannot be fulfilled on leases.coordination.k8s.io "cron-connector": StorageError: invalid object, Code: 4, Key: /registry/leases/openfaas/cron-connector, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${rv}`,
      );
      expect((await raw('DELETE', `${LEASES_PATH}/${NAME}`, { body: options(rv), contentType: 'application/json' })).status).toBe(200);
      expect(api.getObject('leases', NS, NAME)).toBeUndefined();
    });

    it('keeps the resourceVersion on an update that changes nothing, as etcd does', async () => {
      const created = await leases.createNamespacedLease({ namespace: NS, body: lease({ holderIdentity: 'pod-a' }) });
      const same = await leases.replaceNamespacedLease({ name: NAME, namespace: NS, body: created });
      expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    });
  });

  it('serves HTTPS with a certificate client-node verifies against the kubeconfig CA', async () => {
    const pki = await createTestPki();
    const secure = await startKubeApi({ issuer, tls: pki.server });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const config = new KubeConfig();
      config.loadFromFile(await secure.writeKubeconfig(dir, { caFile: await pki.writeCaFile(), fileName: 'kubeconfig-tls' }));
      const client = config.makeApiClient(CoordinationV1Api);
      await client.createNamespacedLease({ namespace: NS, body: lease() });
      expect(secure.getObject('leases', NS, NAME)?.metadata.name).toBe(NAME);
    } finally {
      await secure.close();
      await pki.removeFiles();
    }
  });
});
