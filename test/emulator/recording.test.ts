import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cronFunction, startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { call } from './client.ts';

describe('request recording', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway();
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '* * * * *')]);
  });
  afterEach(() => gateway.close());

  it('records every request with its query, headers and final status', async () => {
    await call(gateway, '/function/nodeinfo.dev?x=1', { method: 'POST', headers: { 'X-Connector': 'cron-connector' } });
    await call(gateway, '/system/namespaces');
    await call(gateway, '/nowhere');

    expect(gateway.requests.map(({ method, path, query, status }) => ({ method, path, query, status }))).toEqual([
      { method: 'POST', path: '/function/nodeinfo.dev', query: 'x=1', status: 200 },
      { method: 'GET', path: '/system/namespaces', query: '', status: 401 },
      { method: 'GET', path: '/nowhere', query: '', status: 404 },
    ]);
    expect(gateway.requests[0]?.headers['x-connector']).toBe('cron-connector');
  });

  it('clears all records on request', async () => {
    await gateway.issueAccessToken({ sub: 'fed:x', policy: [] });
    await call(gateway, '/function/nodeinfo.dev', { method: 'POST' });
    gateway.clearRecords();

    expect([gateway.requests, gateway.invocations, gateway.exchanges, gateway.issuedTokens]).toEqual([[], [], [], []]);
  });

  it('waits for a condition to become true', async () => {
    setTimeout(() => {
      call(gateway, '/function/nodeinfo.dev', { method: 'POST' }).catch(() => undefined);
    }, 50);
    await gateway.waitFor(() => gateway.invocations.length === 1, 2_000, 'one invocation');
    expect(gateway.invocations).toHaveLength(1);
  });

  it('names what it waited for when the wait times out', async () => {
    await expect(gateway.waitFor(() => false, 50, 'an invocation of nodeinfo.dev')).rejects.toThrow(
      'Timed out after 50 ms waiting for an invocation of nodeinfo.dev',
    );
  });
});
