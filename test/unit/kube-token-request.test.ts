/**
 * The TokenRequest client (src/kube/token-request.ts) through the real @kubernetes/client-node,
 * against the Kubernetes API emulator, with the kubeconfig found as the connector finds it
 * (KUBECONFIG): what it sends, and the KubeApiError and diagnosis of each failure; then the
 * doctor's token check with token_source=kubernetes on the same client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkProjectedToken } from '../../src/cli/doctor/token-check.ts';
import type { IamAuthConfig } from '../../src/config.ts';
import { KubeApiError } from '../../src/errors.ts';
import { connectTokenRequest } from '../../src/kube/token-request.ts';
import { DEFAULT_KUBE_USER, startKubeApi, type KubeApiServer } from '../support/kube-api.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';

const SYSTEM_ISSUER = 'https://gw.example.com';
const NS = 'openfaas';
const NAME = 'cron-connector';
const SPEC = { namespace: NS, name: NAME, audiences: [SYSTEM_ISSUER], expirationSeconds: 3600 };
const CONTEXT = 'kubeconfig context "kube-api-emulator"';
const RULE = `apiGroups: [""] resources: [serviceaccounts/token] resourceNames: [${NAME}] verbs: [create]`;
const AUTH: IamAuthConfig = {
  mode: 'iam',
  systemIssuer: SYSTEM_ISSUER,
  tokenUrl: 'http://gateway.openfaas:8080/oauth/token',
  tokenSource: 'kubernetes',
  serviceAccount: { namespace: NS, name: NAME },
};

let kube: KubeApiServer;
let issuer: KubeIssuer;
let dir: string;
const never = new AbortController().signal;

beforeAll(async () => {
  issuer = await KubeIssuer.create();
  kube = await startKubeApi({ issuer });
  dir = await mkdtemp(join(tmpdir(), 'cc-token-request-'));
});

afterAll(async () => {
  await kube.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  kube.clearFaults();
  kube.clearRequests();
  kube.setRules(DEFAULT_KUBE_USER, undefined);
  kube.addServiceAccount(NS, NAME);
  vi.stubEnv('KUBECONFIG', await kube.writeKubeconfig(dir));
  vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function failure(promise: Promise<unknown>): Promise<KubeApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubeApiError);
  const error = err as KubeApiError;
  for (const t of kube.issuedTokens) expect(`${error.message} ${error.hint ?? ''}`).not.toContain(t.token);
  return error;
}

describe('TokenRequest through @kubernetes/client-node', () => {
  it('should mint a token for the ServiceAccount with the audience and expiry asked for', async () => {
    const client = await connectTokenRequest(2000);
    expect(client.credentials).toBe(CONTEXT);
    const minted = await client.createToken(SPEC, never);
    expect(kube.issuedTokens).toEqual([expect.objectContaining({ namespace: NS, serviceAccount: NAME, audiences: [SYSTEM_ISSUER], expirationSeconds: 3600, token: minted.token })]);
    expect(minted.expiresAtMs).toBe((kube.issuedTokens[0]?.exp ?? 0) * 1000);
    expect(kube.requests.at(-1)).toMatchObject({ method: 'POST', verb: 'create', resource: 'serviceaccounts/token', namespace: NS, name: NAME, status: 201 });
  });

  it('should name the RBAC rule on 403: create on serviceaccounts/token for that name, bound to the caller', async () => {
    kube.setRules(DEFAULT_KUBE_USER, [{ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['someone-else'] }]);
    const client = await connectTokenRequest(2000);
    const err = await failure(client.createToken(SPEC, never));
    expect(err.status).toBe(403);
    expect(err.message).toContain(`Kubernetes API: create serviceaccounts/token ${NS}/${NAME}: 403 Forbidden`);
    expect(err.diagnosis?.cause).toBe(`RBAC does not allow "create" on the token of ServiceAccount ${NS}/${NAME}`);
    expect(err.diagnosis?.fix).toBe(`add a Role in namespace ${NS} with ${RULE}, bound to the identity the connector calls the API with (${CONTEXT})`);
    expect(err.diagnosis?.details).toContain(`check: kubectl auth can-i create serviceaccounts/${NAME} --subresource=token -n ${NS}`);

    kube.setRules(DEFAULT_KUBE_USER, [{ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [NAME] }]);
    await expect(client.createToken(SPEC, never)).resolves.toMatchObject({ token: expect.any(String) as unknown });
  });

  it('should say the ServiceAccount does not exist on 404', async () => {
    const client = await connectTokenRequest(2000);
    const err = await failure(client.createToken({ ...SPEC, name: 'ghost' }, never));
    expect(err.status).toBe(404);
    expect(err.diagnosis?.cause).toBe(`ServiceAccount ${NS}/ghost does not exist`);
    expect(err.diagnosis?.fix).toContain('set token_service_account to <namespace>/<name>');
  });

  it('should say the credentials were refused on 401, and that nothing answered when the server is down', async () => {
    vi.stubEnv('KUBECONFIG', await kube.writeKubeconfig(dir, { token: 'expired-token', fileName: 'stale' }));
    const stale = await connectTokenRequest(2000);
    const refused = await failure(stale.createToken(SPEC, never));
    expect(refused.status).toBe(401);
    expect(refused.diagnosis?.cause).toBe(`the Kubernetes API server refused the connector's credentials (${CONTEXT})`);

    const client = await connectTokenRequest(2000);
    kube.down(true);
    const down = await failure(client.createToken(SPEC, never));
    expect(down.status).toBeUndefined();
    expect(down.diagnosis?.cause).toBe(`the Kubernetes API server did not answer (${CONTEXT})`);
  });

  it('should give up after its timeout', async () => {
    const client = await connectTokenRequest(300);
    kube.slow(2000);
    const err = await failure(client.createToken(SPEC, never));
    expect(err.message).toBe(`Kubernetes API: create serviceaccounts/token ${NS}/${NAME}: no answer within 300 ms`);
  });

  it('should refuse to start without any Kubernetes configuration', async () => {
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('HOME', dir);
    const err = await failure(connectTokenRequest(2000));
    expect(err.code).toBe('E_KUBE_CONFIG');
    expect(err.diagnosis?.fix).toContain('set KUBECONFIG');
  });
});

describe('doctor: the ServiceAccount token with token_source=kubernetes', () => {
  it('should mint a token and report its claims', async () => {
    const now = Date.now();
    const outcome = await checkProjectedToken(AUTH, now, { timeoutMs: 2000 });
    expect(outcome.check).toMatchObject({ name: 'projected-token', status: 'pass' });
    expect(outcome.check.summary).toMatch(
      new RegExp(`^TokenRequest for ServiceAccount ${NS}/${NAME} \\(kubeconfig context "kube-api-emulator"\\): sub system:serviceaccount:${NS}:${NAME}, iss ${issuer.iss.replace(/\./g, '\\.')}, aud \\[${SYSTEM_ISSUER.replace(/\./g, '\\.')}\\], expires in (59m59s|1h)$`),
    );
    expect(outcome.report).toEqual({
      source: 'kubernetes',
      serviceAccount: `${NS}/${NAME}`,
      iss: issuer.iss,
      sub: `system:serviceaccount:${NS}:${NAME}`,
      aud: [SYSTEM_ISSUER],
      expiresAt: new Date((kube.issuedTokens[0]?.exp ?? 0) * 1000).toISOString(),
    });
    expect(outcome.token?.token).toBe(kube.issuedTokens[0]?.token);
    expect(JSON.stringify(outcome.check)).not.toContain(kube.issuedTokens[0]?.token);
  });

  it('should fail with the RBAC rule on 403, the missing ServiceAccount on 404, and the kubeconfig when there is none', async () => {
    kube.setRules(DEFAULT_KUBE_USER, []);
    const forbidden = await checkProjectedToken(AUTH, Date.now(), { timeoutMs: 2000 });
    expect(forbidden.token).toBeUndefined();
    expect(forbidden.check).toMatchObject({
      status: 'fail',
      code: 'E_KUBE_API',
      cause: `RBAC does not allow "create" on the token of ServiceAccount ${NS}/${NAME}`,
      fix: expect.stringContaining(RULE) as unknown,
    });
    expect(forbidden.check.summary).toContain('403 Forbidden');

    kube.setRules(DEFAULT_KUBE_USER, undefined);
    const missing = await checkProjectedToken({ ...AUTH, serviceAccount: { namespace: NS, name: 'ghost' } }, Date.now(), { timeoutMs: 2000 });
    expect(missing.check).toMatchObject({ status: 'fail', cause: `ServiceAccount ${NS}/ghost does not exist` });

    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('HOME', dir);
    const none = await checkProjectedToken(AUTH, Date.now(), { timeoutMs: 2000 });
    expect(none.check).toMatchObject({ status: 'fail', code: 'E_KUBE_CONFIG', summary: expect.stringContaining('no Kubernetes API to reach') as unknown });
  });
});
