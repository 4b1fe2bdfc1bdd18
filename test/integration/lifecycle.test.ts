import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConnector } from '../support/connector.ts';
import { cronFunction, startGateway } from '../support/gateway.ts';
import { freePort } from '../helpers/ports.ts';
import { callsOf, is, launch, secret, world } from '../helpers/fixture.ts';

describe('command line', () => {
  it('should print the package version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await runConnector({}, ['--version']);
    expect([r.code, r.stdout.trim()]).toEqual([0, version]);
  });

  it('should print usage with every environment variable', async () => {
    const r = await runConnector({}, ['--help']);
    expect(r.code).toBe(0);
    for (const name of ['gateway_url', 'system_issuer', 'token_mount_path', 'rebuild_interval', 'max_inflight', 'shutdown_timeout']) {
      expect(r.stdout).toContain(name);
    }
  });

  it('should stop at start-up with one line per bad variable and exit 1', async () => {
    const r = await runConnector({ gateway_url: 'not a url', rebuild_interval: '5 minutes', log_encoding: 'yaml' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gateway_url="not a url": expected an http:// or https:// URL');
    expect(r.stderr).toContain('rebuild_interval="5 minutes": expected a Go duration');
    expect(r.stderr).toContain('log_encoding="yaml": expected console or json');
  });

  it('should refuse IAM mode without the token directory', async () => {
    const r = await runConnector({ gateway_url: 'http://127.0.0.1:1', system_issuer: 'http://127.0.0.1:1', token_mount_path: '/nonexistent/tokens' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/token_mount_path="\/nonexistent\/tokens": expected an existing directory/);
  });

  it('should refuse an unknown argument with exit 2', async () => {
    const r = await runConnector({}, ['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown argument');
  });
});

describe('shutdown', () => {
  it('should stop firing on SIGTERM, log the Response of the call in flight, and exit 0', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('long', '* * * * * *')]);
    w.gateway.setFunctionBehavior('dev', 'long', { delayMs: 1500 });
    const connector = await w.start();
    await connector.waitForLog(is('Invoking', { function: 'long.dev' }), 5000);
    const status = await connector.stop('SIGTERM');
    expect(status).toEqual({ code: 0, signal: null });
    const after = connector.logs.slice(connector.logs.findIndex(is('Shutting down')));
    expect(after.some(is('Response', { function: 'long.dev', status: 200 }))).toBe(true);
    expect(after.some(is('Stopped', { abandoned: 0 }))).toBe(true);
    expect(after.filter(is('Invoking')).length).toBe(0);
  });

  it('should abandon calls still running at shutdown_timeout and still exit 0', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('stuck', '* * * * * *')]);
    w.gateway.setFunctionBehavior('dev', 'stuck', { delayMs: 20_000 });
    const connector = await w.start({ shutdown_timeout: '300ms' });
    await connector.waitForLog(is('Invoking', { function: 'stuck.dev' }), 5000);
    const started = Date.now();
    expect(await connector.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(connector.logs.some(is('Stopped', { abandoned: 1 }))).toBe(true);
  });

  it('should exit at once on a second signal of either kind while it drains', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('stuck', '* * * * * *')]);
    w.gateway.setFunctionBehavior('dev', 'stuck', { delayMs: 20_000 });
    const connector = await w.start({ shutdown_timeout: '20s' });
    await connector.waitForLog(is('Invoking', { function: 'stuck.dev' }), 5000);
    connector.signal('SIGTERM');
    await connector.waitForLog(is('Waiting for invocations in flight'), 5000);
    connector.signal('SIGINT');
    expect(await connector.exited).toEqual({ code: 1, signal: null });
    expect(connector.logs.find(is('Second signal, exiting now'))).toMatchObject({ level: 'warn', signal: 'SIGINT' });
  });
});

describe('basic auth mode', () => {
  it('should list with the admin credentials from secret_mount_path and never send them to functions', async () => {
    const password = 'pa55-w0rd-very-secret';
    const gateway = await startGateway({ auth: 'basic', basicAuth: { user: 'admin', password } });
    secret(password, Buffer.from(`admin:${password}`).toString('base64'));
    try {
      const dir = await mkdtemp(join(tmpdir(), 'cc-basic-'));
      await writeFile(join(dir, 'basic-auth-user'), 'admin\n');
      await writeFile(join(dir, 'basic-auth-password'), `${password}\n`);
      gateway.setFunctions('openfaas-fn', [cronFunction('ce', '* * * * * *')]);
      const connector = await launch({ gateway_url: gateway.url, basic_auth: 'true', secret_mount_path: dir });
      await gateway.waitFor(() => callsOf(gateway, 'ce', 'openfaas-fn').length >= 1, 5000, 'an invocation');
      expect(gateway.requests.filter((r) => r.path.startsWith('/system/') && r.status !== 200)).toEqual([]);
      expect(callsOf(gateway, 'ce', 'openfaas-fn')[0]?.headers.authorization).toBeUndefined();
      await connector.waitForLog(is('Response', { function: 'ce.openfaas-fn', status: 200 }));
    } finally {
      await gateway.close();
    }
  });

  it('should explain missing basic-auth files', async () => {
    const gateway = await startGateway({ auth: 'basic', basicAuth: { user: 'admin', password: 'x' } });
    try {
      const dir = await mkdtemp(join(tmpdir(), 'cc-basic-'));
      const connector = await launch({ gateway_url: gateway.url, basic_auth: 'true', secret_mount_path: dir });
      const failed = await connector.waitForLog(is('Discovery failed, keeping current schedules'));
      expect(failed.code).toBe('E_BASIC_AUTH');
      expect(String(failed.hint)).toContain('basic-auth-password');
    } finally {
      await gateway.close();
    }
  });
});

describe('health endpoints', () => {
  it('should answer /healthz at once and /readyz only after credentials and a discovery pass', async () => {
    const port = await freePort();
    const w = await world();
    w.gateway.deleteRole('cron-connector');
    const connector = await w.start({ http_port: String(port) });
    await connector.waitForLog(is('Token exchange failed'));
    const get = async (path: string): Promise<[number, string]> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return [res.status, (await res.text()).trim()];
    };
    expect(await get('/healthz')).toEqual([200, 'ok']);
    expect(await get('/readyz')).toEqual([503, 'no credentials yet']);
    w.gateway.setRole('cron-connector', {
      policy: ['cron-connector'],
      principal: { 'jwt:sub': [w.iam.subject] },
      condition: { StringEqual: { 'jwt:iss': [w.iam.kube.iss] } },
    });
    await connector.waitForLog(is('Discovery complete'), 15_000);
    expect(await get('/readyz')).toEqual([200, 'ready']);
    expect((await get('/nope'))[0]).toBe(404);
  });
});
