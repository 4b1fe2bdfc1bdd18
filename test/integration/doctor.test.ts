/**
 * `cron-connector doctor`: the built binary against the gateway emulator, one failure mode per
 * test, each checking the cause and fix it prints, its exit code, and that no output holds a
 * projected token, an issued token, a signature or a password.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { runConnector, type RunResult } from '../support/connector.ts';
import { cronFunction, startGateway } from '../support/gateway.ts';
import { world, type World } from '../helpers/fixture.ts';
import { freePort } from '../helpers/ports.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Lines of output holding a secret or a JWT's signature. */
function leaks(r: RunResult, secrets: readonly string[]): string[] {
  const needles = secrets.filter((s) => s.length >= 8).flatMap((s) => [s, ...(s.split('.').length === 3 ? [s.split('.')[2] ?? ''] : [])]);
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((line) => needles.some((n) => n !== '' && line.includes(n)));
}

async function doctor(env: Record<string, string>, secrets: () => readonly string[], args: string[] = []): Promise<RunResult> {
  const r = await runConnector(env, ['doctor', ...args]);
  expect(leaks(r, secrets())).toEqual([]);
  return r;
}

/** Runs doctor in a world; every projected and issued token is a secret. */
function doctorIn(w: World, extraEnv: Record<string, string> = {}, args: string[] = []): Promise<RunResult> {
  return doctor({ ...w.env, ...extraEnv }, () => [...w.projected, ...w.gateway.issuedTokens], args);
}

/** dev and prod listable, staging visible but forbidden (403), one function with a bad schedule. */
async function tenantWorld(): Promise<World> {
  const w = await world();
  w.gateway.setPolicy('cron-connector', {
    statement: [
      { sid: 'ns', effect: 'Allow', action: ['Namespace:List'], resource: ['*'] },
      { sid: 'fn', effect: 'Allow', action: ['Function:List'], resource: ['dev:*', 'prod:*'] },
    ],
  });
  w.gateway.setFunctions('dev', [
    cronFunction('nodeinfo', '*/5 * * * * *'),
    cronFunction('broken', '*/5 * * *'),
    { name: 'plain', image: 'ghcr.io/openfaas/nodeinfo:latest', annotations: {} },
  ]);
  w.gateway.setFunctions('prod', [cronFunction('report', '0 9 * * MON-FRI', { 'com.openfaas.cron.timezone': 'Europe/London' })]);
  w.gateway.setFunctions('staging', [cronFunction('nodeinfo', '* * * * *')]);
  return w;
}

/** dev with two scheduled functions (one deployed with jwt_auth=true) and the connector's Policy granting `actions` on dev:*. */
async function jwtWorld(actions: string[]): Promise<World> {
  const w = await world();
  w.gateway.setPolicy('cron-connector', { statement: [{ sid: 'fn', effect: 'Allow', action: actions, resource: ['dev:*'] }] });
  w.gateway.setFunctions('dev', [
    { ...cronFunction('nodeinfo', '*/5 * * * *'), envVars: { jwt_auth: 'true' } },
    cronFunction('report', '0 9 * * *'),
    { name: 'plain', image: 'ghcr.io/openfaas/nodeinfo:latest', annotations: {} },
  ]);
  return w;
}

describe('cron-connector doctor', () => {
  it('should pass with namespaces, selected functions, a bad schedule and a 403 namespace', async () => {
    const w = await tenantWorld();
    const r = await doctorIn(w);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toMatch(/^cron-connector doctor \d+\.\d+\.\d+/);
    expect(out).toContain(`✓ projected token  ${w.tokens.path}/openfaas-token: sub ${w.iam.subject}, iss ${w.iam.kube.iss}, aud [${w.gateway.systemIssuer}], expires in`);
    expect(out).toContain(`✓ token exchange   access token for ${w.iam.subject}`);
    expect(out).toContain('policies [cron-connector]');
    expect(out).toContain('✓ namespaces       3 visible: dev, prod, staging');
    expect(out).toContain('dev: 3 functions; selected: broken, nodeinfo; without topic cron-function: plain');
    expect(out).toContain('staging: forbidden (403)');
    expect(out).toContain('add "staging:*" to the Policy\'s resource (helm: iam.resource)');
    expect(out).toContain('broken.dev: cannot be scheduled: invalid schedule "*/5 * * *": expected 5 fields');
    expect(out).toMatch(/report\.prod: "0 9 \* \* MON-FRI" \(Europe\/London\), next \d{4}-\d\d-\d\dT\d\d:00:00\.000Z/);
    expect(out).toContain('All checks passed, 2 warnings.');
  });

  it('should write one stable JSON document with --json', async () => {
    const w = await tenantWorld();
    const r = await doctorIn(w, {}, ['--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['version', 'ok', 'gateway', 'auth', 'checks', 'token', 'policies', 'namespaces']);
    expect(doc).toMatchObject({ ok: true, gateway: w.gateway.url, auth: 'iam', policies: ['cron-connector'] });
    expect(doc.token).toMatchObject({ file: `${w.tokens.path}/openfaas-token`, sub: w.iam.subject, iss: w.iam.kube.iss, aud: [w.gateway.systemIssuer] });
    const checks = doc.checks as Array<Record<string, unknown>>;
    expect(checks.map((c) => [c.name, c.status, c.ok])).toEqual([
      ['configuration', 'pass', true],
      ['projected-token', 'pass', true],
      ['token-exchange', 'pass', true],
      ['namespaces', 'pass', true],
      ['functions', 'warn', true],
      ['schedules', 'warn', true],
    ]);
    for (const c of checks) expect(typeof c.summary).toBe('string');
    expect(checks[4]).toMatchObject({ cause: expect.stringContaining('Function:List'), fix: expect.stringContaining('"staging:*"') });
    expect(doc.namespaces).toEqual([
      {
        name: 'dev',
        status: 'listed',
        functions: [
          { function: 'broken.dev', name: 'broken', status: 'rejected', reason: expect.stringContaining('invalid schedule "*/5 * * *"') },
          { function: 'nodeinfo.dev', name: 'nodeinfo', status: 'scheduled', timezone: 'UTC', schedules: [{ expression: '*/5 * * * * *', next: expect.stringMatching(/Z$/) }] },
          { function: 'plain.dev', name: 'plain', status: 'ignored' },
        ],
      },
      {
        name: 'prod',
        status: 'listed',
        functions: [{ function: 'report.prod', name: 'report', status: 'scheduled', timezone: 'Europe/London', schedules: [{ expression: '0 9 * * MON-FRI', next: expect.any(String) }] }],
      },
      { name: 'staging', status: 'forbidden', error: expect.stringContaining('403'), functions: [] },
    ]);
  });

  it('should explain a missing Role with the subject and the Role fields to check', async () => {
    const w = await world();
    w.gateway.deleteRole('cron-connector');
    const r = await doctorIn(w);
    expect(r.code).toBe(1);
    const out = r.stdout;
    expect(out).toContain(`✗ token exchange   No policies found for subject: ${w.iam.subject}`);
    expect(out).toContain('cause: no IAM Role matches this ServiceAccount');
    expect(out).toContain(`fix:   create a Role (iam.openfaas.com/v1) in the openfaas namespace with principal jwt:sub: ["${w.iam.subject}"] and condition StringEqual jwt:iss: ["${w.iam.kube.iss}"]`);
    expect(out).toContain('the Helm chart creates both: IAM is on by default');
    expect(out).toContain(`spec.principal["jwt:sub"] lists "${w.iam.subject}"`);
    expect(out).toContain(`spec.condition.StringEqual["jwt:iss"] lists "${w.iam.kube.iss}"`);
    expect(out).toContain('- namespaces       skipped: no access token');
    expect(out).toContain('1 check failed.');
  });

  it('should explain an issuer that is not registered', async () => {
    const w = await world();
    w.gateway.removeJwtIssuer('kubernetes');
    const r = await doctorIn(w, {}, ['--json']);
    expect(r.code).toBe(1);
    const exchange = (JSON.parse(r.stdout) as { checks: Array<Record<string, unknown>> }).checks[2];
    expect(exchange).toMatchObject({
      name: 'token-exchange',
      status: 'fail',
      ok: false,
      code: 'E_TOKEN_EXCHANGE',
      summary: `issuer not registered: ${w.iam.kube.iss}`,
      cause: `the projected token's issuer ${w.iam.kube.iss} is not registered with OpenFaaS as a JwtIssuer`,
      fix: expect.stringContaining('kubectl get jwtissuer -n openfaas'),
    });
  });

  it('should explain a projected token for the wrong audience', async () => {
    const w = await world();
    await w.rotate({ aud: 'https://kubernetes.default.svc' });
    const r = await doctorIn(w);
    expect(r.code).toBe(1);
    const out = r.stdout;
    expect(out).toContain('✗ projected token');
    expect(out).toContain(`cause: the token's audience [https://kubernetes.default.svc] does not contain system_issuer ${w.gateway.systemIssuer}`);
    expect(out).toContain('✗ token exchange   audience not valid');
    expect(out).toContain("fix:   set the projected volume's audience to system_issuer");
  });

  it('should report an expired projected token', async () => {
    const w = await world();
    await w.rotate({ issuedAt: Math.floor(Date.now() / 1000) - 3600, lifetimeSeconds: 600 });
    const r = await doctorIn(w);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ projected token .*expired 50m\d*s? ago/);
    expect(r.stdout).toContain('cause: the token expired');
    expect(r.stdout).toContain('✗ token exchange   token expired');
    expect(r.stdout).toContain('cause: the projected token has expired');
  });

  it('should report a missing token file and skip the exchange', async () => {
    const w = await world();
    const empty = await tempDir('cc-doctor-empty-');
    const r = await doctorIn(w, { token_mount_path: empty });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✗ projected token  cannot read the projected ServiceAccount token at ${empty}/openfaas-token`);
    expect(r.stdout).toContain('fix:   mount a projected serviceAccountToken volume');
    expect(r.stdout).toContain('- token exchange   skipped: no projected token');
  });

  it('should say the gateway is unreachable, in IAM and no-auth modes', async () => {
    const w = await world();
    const closed = `http://127.0.0.1:${await freePort()}`;
    const iam = await doctorIn(w, { gateway_url: closed });
    expect(iam.code).toBe(1);
    const hostPort = closed.replace('http://', '');
    expect(iam.stdout).toContain(`cause: nothing listens at ${hostPort} (ECONNREFUSED)`);
    expect(iam.stdout).toContain("fix:   check the URL's host and port, and that the gateway is running (kubectl get pods -n openfaas)");

    const open = await doctor({ gateway_url: closed }, () => []);
    expect(open.code).toBe(1);
    expect(open.stdout).toContain('- token exchange   skipped: no-auth mode');
    expect(open.stdout).toMatch(/✗ namespaces {7}GET \/system\/namespaces failed/);
    expect(open.stdout).toContain(`nothing listens at ${hostPort} (ECONNREFUSED)`);
  });

  it('should explain a gateway whose TLS certificate is signed by an unknown authority', async () => {
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048 });
    const server = createServer({ key: pems.private, cert: pems.cert }, (_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const w = await world();
    const r = await doctorIn(w, { gateway_url: url });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cause: the TLS certificate of 127\.0\.0\.1:\d+ is signed by an unknown authority .*\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
    expect(r.stdout).toContain('set NODE_EXTRA_CA_CERTS to its path');
  });

  it('should skip the token steps in basic-auth mode and still run discovery, never printing the password', async () => {
    const password = 'basic-auth-password-value-123';
    const gateway = await startGateway({ auth: 'basic', basicAuth: { user: 'admin', password } });
    cleanups.push(() => gateway.close());
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '*/5 * * * *')]);
    const dir = await tempDir('cc-doctor-basic-');
    await writeFile(join(dir, 'basic-auth-user'), 'admin\n');
    await writeFile(join(dir, 'basic-auth-password'), `${password}\n`);
    const secrets = (): string[] => [password, Buffer.from(`admin:${password}`).toString('base64')];
    const env = { gateway_url: gateway.url, basic_auth: 'true', secret_mount_path: dir };

    const ok = await doctor(env, secrets);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('- projected token  skipped: basic-auth mode');
    expect(ok.stdout).toContain('- token exchange   skipped: basic-auth mode');
    expect(ok.stdout).toContain('✓ namespaces       1 visible: dev');
    expect(ok.stdout).toContain('nodeinfo.dev: "*/5 * * * *" (UTC)');

    await writeFile(join(dir, 'basic-auth-password'), 'wrong-password-456\n');
    const refused = await doctor(env, () => [...secrets(), 'wrong-password-456']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('cause: the gateway refused the basic-auth credentials');
  });

  it('should mint a per-function token with jwt_auth=true when the Policy grants Function:Invoke, naming the function and invoking none', async () => {
    const w = await jwtWorld(['Function:List', 'Namespace:List', 'Function:Invoke']);
    const r = await doctorIn(w, { jwt_auth: 'true' });
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/✓ function token {3}per-function token for nodeinfo\.dev: audience \[dev:nodeinfo\], expires in \d/);
    expect(out).toContain('tried nodeinfo.dev (namespace dev), the first of 2 scheduled functions; no function was invoked');
    expect(out).toContain('All checks passed.');
    expect(w.gateway.invocations).toEqual([]);
    expect(w.gateway.requests.filter((q) => q.path.startsWith('/function/') || q.path.startsWith('/async-function/'))).toEqual([]);

    const json = await doctorIn(w, { jwt_auth: 'true' }, ['--json']);
    const doc = JSON.parse(json.stdout) as { checks: Array<Record<string, unknown>> };
    expect(doc.checks.map((c) => c.name)).toEqual(['configuration', 'projected-token', 'token-exchange', 'namespaces', 'functions', 'schedules', 'function-token']);
    expect(doc.checks[6]).toMatchObject({ name: 'function-token', status: 'pass', ok: true, summary: expect.stringContaining('nodeinfo.dev') });
  });

  it('should fail the function token with jwt_auth=true when the Policy lacks Function:Invoke, with the cause and fix', async () => {
    const w = await jwtWorld(['Function:List', 'Namespace:List']);
    const r = await doctorIn(w, { jwt_auth: 'true' });
    expect(r.code).toBe(1);
    const out = r.stdout;
    expect(out).toContain('✓ token exchange');
    expect(out).toContain(`✗ function token   cannot mint a per-function token for nodeinfo.dev: policy does not allow Function:Invoke on dev:nodeinfo for subject: ${w.iam.subject}`);
    expect(out).toContain('cause: the IAM Policy bound to this connector does not grant Function:Invoke on namespace dev');
    expect(out).toContain('fix:   add Function:Invoke on "dev:*" to the Policy (helm: jwtAuth: true adds Function:Invoke on iam.resource; list "dev:*" there)');
    expect(out).toContain('tried nodeinfo.dev (namespace dev)');
    expect(out).toContain('1 check failed.');
    expect(w.gateway.invocations).toEqual([]);

    const json = await doctorIn(w, { jwt_auth: 'true' }, ['--json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { ok: boolean; checks: Array<Record<string, unknown>> };
    expect(doc.ok).toBe(false);
    expect(doc.checks.find((c) => c.name === 'function-token')).toMatchObject({
      status: 'fail',
      ok: false,
      code: 'E_TOKEN_EXCHANGE',
      fix: expect.stringContaining('Function:Invoke on "dev:*"'),
    });
  });

  it('should not report a function token with jwt_auth off', async () => {
    const w = await jwtWorld(['Function:List', 'Namespace:List', 'Function:Invoke']);
    const r = await doctorIn(w, {}, ['--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { checks: Array<Record<string, unknown>> };
    expect(doc.checks.map((c) => c.name)).not.toContain('function-token');
    expect(w.gateway.exchanges).toHaveLength(1);
  });

  it('should print the configuration errors and exit 1, and refuse unknown flags with 2', async () => {
    const bad = await doctor({ gateway_url: 'not a url' }, () => []);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('✗ configuration');
    expect(bad.stdout).toContain('invalid configuration: gateway_url="not a url": expected an http:// or https:// URL');
    expect(bad.stdout).toContain('- namespaces       skipped: the configuration is invalid');

    const usage = await doctor({}, () => [], ['--frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("Unknown option '--frobnicate'");
  });
});
