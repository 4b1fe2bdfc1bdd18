/**
 * The doctor's function-token check (jwt_auth=true): which function it tries, the per-function
 * exchange it sends (the daemon's, over a Dispatcher the test answers by hand), and what it reports
 * for a token, a Policy without Function:Invoke and other refusals. No function is invoked.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_TYPE, ID_TOKEN_TYPE } from '../../src/auth/exchange.ts';
import { decodeClaims, type ProjectedToken } from '../../src/auth/token-file.ts';
import { diagnose } from '../../src/cli/doctor/doctor.ts';
import { checkFunctionToken, pickFunction, type FunctionTokenStep } from '../../src/cli/doctor/function-token-check.ts';
import { renderText } from '../../src/cli/doctor/render-text.ts';
import type { NamespaceReport } from '../../src/cli/doctor/report.ts';
import type { IamAuth } from '../../src/cli/doctor/token-check.ts';
import { exchangeRefusal, functionTokenRefusal } from '../../src/diagnosis.ts';
import { FakeDispatcher } from '../helpers/fake-dispatcher.ts';
import { freePort } from '../helpers/ports.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';

const GW = 'https://gw.example.com';
const SUB = 'system:serviceaccount:openfaas:cron-connector';
const NOW = Date.parse('2026-12-02T10:00:00.000Z');
const NO_INVOKE = `policy does not allow Function:Invoke on dev:nodeinfo for subject: ${SUB}`;
const auth: IamAuth = { mode: 'iam', tokenSource: 'file', systemIssuer: GW, tokenUrl: `${GW}/oauth/token`, tokenMountPath: '/var/secrets/tokens', tokenFile: '/var/secrets/tokens/openfaas-token' };

let subject: ProjectedToken;
let http: FakeDispatcher | undefined;

beforeAll(async () => {
  const kube = await KubeIssuer.create();
  const token = await kube.issue({ aud: [GW], sub: SUB, issuedAt: Math.floor(NOW / 1000), lifetimeSeconds: 3600 });
  subject = { token, claims: decodeClaims(token) };
});

afterEach(() => {
  http?.failOpen();
  http = undefined;
});

/** A step whose exchange the test answers through `fake`. */
function step(): { s: FunctionTokenStep; fake: FakeDispatcher } {
  const fake = new FakeDispatcher();
  http = fake;
  return { s: { dispatcher: fake.dispatcher, auth, token: subject, timeoutMs: 2000, now: () => NOW }, fake };
}

/** An access token as the gateway issues it (unsigned: only its claims are read). */
function accessToken(claims: Record<string, unknown>): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJlLW9mLXRoZS1hY2Nlc3MtdG9rZW4`;
}

const scheduled = (name: string) => ({ function: name, name, status: 'scheduled' as const, timezone: 'UTC', schedules: [] });

const namespaces: NamespaceReport[] = [
  { name: 'staging', status: 'forbidden', error: 'answered 403', functions: [] },
  { name: 'dev', status: 'listed', functions: [{ function: 'broken.dev', name: 'broken', status: 'rejected', reason: 'invalid schedule' }, scheduled('nodeinfo'), scheduled('report')] },
  { name: 'prod', status: 'listed', functions: [scheduled('report')] },
];

describe('the function tried', () => {
  it('should pick the first scheduled function of the first listed namespace', () => {
    expect(pickFunction(namespaces, 'cron-function')).toEqual({ ok: true, target: { namespace: 'dev', name: 'nodeinfo' }, scheduled: 3 });
  });

  it('should say why there is none', () => {
    expect(pickFunction([], 'cron-function')).toEqual({ ok: false, why: 'no function to try: no namespace is visible' });
    expect(pickFunction(namespaces.slice(0, 1), 'cron-function')).toEqual({ ok: false, why: 'no function to try: no namespace could be listed' });
    const none: NamespaceReport[] = [{ name: 'dev', status: 'listed', functions: [{ function: 'plain.dev', name: 'plain', status: 'ignored' }] }];
    expect(pickFunction(none, 'cron-function')).toEqual({ ok: false, why: 'no function to try: none with topic cron-function can be scheduled' });
  });
});

describe('the function-token check', () => {
  it('should send the daemon\'s per-function exchange and report the audience and expiry, never the token', async () => {
    const { s, fake } = step();
    const pending = checkFunctionToken(s, pickFunction(namespaces, 'cron-function'));
    const req = await fake.next();
    expect(req.method).toBe('POST');
    expect(`${req.origin}${req.path}`).toBe(`${GW}/oauth/token`);
    expect(Object.fromEntries(req.form)).toEqual({
      grant_type: GRANT_TYPE,
      subject_token: subject.token,
      subject_token_type: ID_TOKEN_TYPE,
      scope: 'function',
      audience: 'dev:nodeinfo',
    });
    const issued = accessToken({ sub: SUB, aud: 'dev:nodeinfo', exp: NOW / 1000 + 900, policy: ['cron-connector'] });
    req.answer(200, { access_token: issued, token_type: 'Bearer', expires_in: 900 });
    const c = await pending;
    expect(c).toEqual({
      name: 'function-token',
      status: 'pass',
      ok: true,
      summary: 'per-function token for nodeinfo.dev: audience [dev:nodeinfo], expires in 15m',
      details: [
        'tried nodeinfo.dev (namespace dev), the first of 3 scheduled functions; no function was invoked',
        `scope function, audience dev:nodeinfo, from ${GW}/oauth/token; policies [cron-connector]`,
      ],
    });
    expect(JSON.stringify(c)).not.toContain(issued.split('.')[2]);
    expect(fake.requests).toHaveLength(1);
  });

  it('should fail a Policy without Function:Invoke with the namespace to grant it on', async () => {
    const { s, fake } = step();
    const pending = checkFunctionToken(s, pickFunction(namespaces, 'cron-function'));
    (await fake.next()).answer(403, { error: 'access_denied', error_description: NO_INVOKE });
    const c = await pending;
    expect(c).toMatchObject({
      name: 'function-token',
      status: 'fail',
      ok: false,
      code: 'E_TOKEN_EXCHANGE',
      summary: `cannot mint a per-function token for nodeinfo.dev: ${NO_INVOKE}`,
      cause: expect.stringContaining('does not grant Function:Invoke on namespace dev'),
      fix: 'add Function:Invoke on "dev:*" to the Policy (helm: jwtAuth: true adds Function:Invoke on iam.resource; list "dev:*" there)',
    });
    expect(c.details?.[0]).toBe('tried nodeinfo.dev (namespace dev), the first of 3 scheduled functions; no function was invoked');
    expect(c.details).toContain(`  a statement with effect Allow, action Function:Invoke and a resource matching "dev:nodeinfo" (e.g. "dev:*")`);
    expect(renderText({ version: '1.2.3', ok: false, checks: [c], namespaces: [] })).toContain(`✗ function token   cannot mint a per-function token for nodeinfo.dev`);
  });

  it('should explain any other refusal as the token exchange does', async () => {
    const { s, fake } = step();
    const pending = checkFunctionToken(s, pickFunction(namespaces, 'cron-function'));
    (await fake.next()).answer(400, { error: 'invalid_request', error_description: `No policies found for subject: ${SUB}` });
    const c = await pending;
    const expected = exchangeRefusal(`No policies found for subject: ${SUB}`, { claims: subject.claims, systemIssuer: GW });
    expect(c).toMatchObject({ status: 'fail', cause: expected.cause, fix: expected.fix });
  });

  it('should explain a gateway it cannot reach', async () => {
    const { s, fake } = step();
    const pending = checkFunctionToken(s, pickFunction(namespaces, 'cron-function'));
    (await fake.next()).fail(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }));
    const c = await pending;
    expect(c).toMatchObject({ status: 'fail', cause: 'nothing listens at gw.example.com (ECONNREFUSED)' });
  });

  it('should skip, saying why, when there is no function to try, without an exchange', async () => {
    const { s, fake } = step();
    const c = await checkFunctionToken(s, pickFunction([], 'cron-function'));
    expect(c).toEqual({ name: 'function-token', status: 'skip', ok: true, summary: 'skipped: no function to try: no namespace is visible' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('per-function refusals', () => {
  it('should name the namespace only for a missing Function:Invoke, and leave the daemon\'s diagnosis as it was', () => {
    const c = { claims: subject.claims, systemIssuer: GW };
    const target = { namespace: 'prod', name: 'report' };
    expect(functionTokenRefusal(NO_INVOKE, c, target).fix).toContain('"prod:*"');
    expect(functionTokenRefusal('audience not valid', c, target)).toEqual(exchangeRefusal('audience not valid', c));
    expect(exchangeRefusal(NO_INVOKE, c)).toEqual({
      cause: "the IAM Policy bound to this connector does not grant Function:Invoke on the function's namespace",
      fix: 'add Function:Invoke on that namespace to the Policy (helm: jwtAuth=true adds it on iam.resource)',
    });
  });
});

describe('doctor with jwt_auth', () => {
  it('should skip the function token outside IAM mode, as the configuration warns', async () => {
    const report = await diagnose({ env: { gateway_url: `http://127.0.0.1:${await freePort()}`, jwt_auth: 'true' }, now: () => NOW });
    expect(report.checks.map((c) => c.name)).toEqual(['configuration', 'projected-token', 'token-exchange', 'namespaces', 'functions', 'schedules', 'function-token']);
    expect(report.checks[0]).toMatchObject({ status: 'warn', cause: expect.stringContaining('jwt_auth needs IAM mode') });
    expect(report.checks[6]).toEqual({
      name: 'function-token',
      status: 'skip',
      ok: true,
      summary: 'skipped: jwt_auth needs IAM mode (system_issuer is not set): functions are invoked without a per-function token',
    });
  });

  it('should not report it when jwt_auth is off, nor when the configuration is invalid', async () => {
    const off = await diagnose({ env: { gateway_url: `http://127.0.0.1:${await freePort()}` }, now: () => NOW });
    expect(off.checks.map((c) => c.name)).not.toContain('function-token');
    const invalid = await diagnose({ env: { gateway_url: 'not a url', jwt_auth: 'true' }, now: () => NOW });
    expect(invalid.checks.map((c) => c.name)).toEqual(['configuration', 'projected-token', 'token-exchange', 'namespaces', 'functions', 'schedules']);
  });
});
