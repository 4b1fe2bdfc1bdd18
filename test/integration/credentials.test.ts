import { describe, expect, it } from 'vitest';
import { cronFunction } from '../support/gateway.ts';
import { callsOf, is, world } from '../helpers/fixture.ts';

describe('credentials', () => {
  it('should renew tokens that expire every few seconds without a single refused call', async () => {
    const w = await world();
    w.gateway.setTokenLifetime(2);
    w.gateway.setFunctions('dev', [cronFunction('tick', '* * * * * *')]);
    const connector = await w.start({ rebuild_interval: '1s' });
    await connector.waitForLog(is('Added', { function: 'tick.dev' }));
    const system = (): typeof w.gateway.requests => w.gateway.requests.filter((r) => r.path.startsWith('/system/'));
    await w.gateway.waitFor(
      () => w.gateway.exchanges.filter((e) => e.ok).length >= 4 && system().length >= 10,
      15_000,
      'four exchanges and ten listings',
    );
    expect(system().filter((r) => r.status === 401)).toEqual([]);
    await w.gateway.waitFor(() => callsOf(w.gateway, 'tick', 'dev').length >= 3, 10_000, 'three invocations');
    expect(connector.countLogs(is('Removed'))).toBe(0);
    expect(w.gateway.requests.filter((r) => r.path.startsWith('/system/') && r.status === 401)).toEqual([]);
  });

  it('should read the projected token again for every exchange (kubelet rotation)', async () => {
    const w = await world();
    await w.rotate({ lifetimeSeconds: 2 });
    w.gateway.setTokenLifetime(1);
    w.gateway.setFunctions('dev', [cronFunction('tick', '0 0 1 1 *')]);
    const connector = await w.start();
    await connector.waitForLog(is('Discovery complete'));
    await w.rotate({ lifetimeSeconds: 600 });
    const oldExpiry = Date.now() + 2000;
    // exchanges after the first projected token expired succeed only if the new file was read
    await w.gateway.waitFor(() => w.gateway.exchanges.some((e) => e.at > oldExpiry + 200 && e.ok), 10_000, 'an exchange after expiry');
    expect(w.gateway.exchanges.filter((e) => !e.ok)).toEqual([]);
    expect(connector.countLogs(is('Token exchange failed'))).toBe(0);
  });

  it('should re-exchange once and retry when the gateway answers 401', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('a', '0 0 1 1 *')]);
    const connector = await w.start({ rebuild_interval: '1s' });
    await connector.waitForLog(is('Discovery complete'));
    const exchanges = w.gateway.exchanges.length;
    w.gateway.setFault('namespaces', { kind: 'status', status: 401, body: 'unauthorized: token expired', times: 1 });
    await w.gateway.waitFor(() => w.gateway.exchanges.length > exchanges, 5000, 'a new exchange after the 401');
    await w.gateway.waitFor(
      () => w.gateway.requests.filter((r) => r.path === '/system/namespaces' && r.status === 200).length >= 3,
      5000,
      'listing to succeed again',
    );
    expect(connector.countLogs(is('Discovery failed, keeping current schedules'))).toBe(0);
  });

  it('should explain a missing Role with the OAuth description and the subject, and recover once the Role exists', async () => {
    const w = await world();
    w.gateway.deleteRole('cron-connector');
    w.gateway.setFunctions('dev', [cronFunction('late', '* * * * * *')]);
    const connector = await w.start();
    const failure = await connector.waitForLog(is('Token exchange failed'));
    expect(failure).toMatchObject({
      code: 'E_TOKEN_EXCHANGE',
      status: 400,
      error: `No policies found for subject: ${w.iam.subject}`,
      subject: w.iam.subject,
      attempt: 1,
    });
    expect(String(failure.hint)).toContain(`principal jwt:sub: ["${w.iam.subject}"]`);
    await connector.waitForLog(is('Token exchange failed', { attempt: 2 }), 5000);
    expect(callsOf(w.gateway, 'late', 'dev')).toHaveLength(0);

    w.gateway.setRole('cron-connector', {
      policy: ['cron-connector'],
      principal: { 'jwt:sub': [w.iam.subject] },
      condition: { StringEqual: { 'jwt:iss': [w.iam.kube.iss] } },
    });
    await connector.waitForLog(is('Access token obtained'), 15_000);
    await connector.waitForLog(is('Added', { function: 'late.dev' }), 5000);
    await w.gateway.waitFor(() => callsOf(w.gateway, 'late', 'dev').length >= 1, 5000, 'an invocation after recovery');
  });

  it('should keep running when the projected token file is missing, saying where it looked', async () => {
    const w = await world();
    await w.tokens.remove();
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const empty = await mkdtemp(`${tmpdir()}/cc-empty-`);
    const connector = await w.start({ token_mount_path: empty });
    const failure = await connector.waitForLog(is('Token exchange failed'));
    expect(failure.code).toBe('E_TOKEN_FILE');
    expect(String(failure.error)).toContain(`${empty}/openfaas-token`);
    expect(String(failure.hint)).toContain('projected serviceAccountToken');
  });
});
