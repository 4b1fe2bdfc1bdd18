import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cronFunction, startGateway } from '../support/gateway.ts';
import type { GatewayEmulator, PolicyStatement } from '../support/gateway.ts';
import { call, callWithToken } from './client.ts';

const SUB = 'fed:system:serviceaccount:openfaas:cron-connector';

describe('policy authorization of the system API', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway();
    gateway.setNamespaces(['openfaas-fn', 'dev', 'staging']);
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '*/5 * * * *')]);
    gateway.setFunctions('staging', [cronFunction('report', '0 * * * *')]);
  });
  afterEach(() => gateway.close());

  /** An access token whose only policy holds `statement`. */
  async function tokenAllowing(statement: Omit<PolicyStatement, 'sid' | 'effect'>): Promise<string> {
    gateway.setPolicy('p', { statement: [{ sid: '1', effect: 'Allow', ...statement }] });
    return gateway.issueAccessToken({ sub: SUB, policy: ['p'] });
  }

  async function namespacesVisibleWith(token: string): Promise<unknown> {
    const reply = await callWithToken(gateway, '/system/namespaces', token);
    expect(reply.status).toBe(200);
    return JSON.parse(reply.text);
  }

  it('lists only the namespaces the policy allows to list', async () => {
    const token = await tokenAllowing({ action: ['Function:List', 'Namespace:List'], resource: ['dev:*'] });
    expect(await namespacesVisibleWith(token)).toEqual(['dev']);
  });

  it('lists every namespace for a cluster-wide resource', async () => {
    const token = await tokenAllowing({ action: ['Namespace:List'], resource: ['*'] });
    expect(await namespacesVisibleWith(token)).toEqual(['openfaas-fn', 'dev', 'staging']);
  });

  it('lists no namespaces without Namespace:List', async () => {
    const token = await tokenAllowing({ action: ['Function:List'], resource: ['*'] });
    expect(await namespacesVisibleWith(token)).toEqual([]);
  });

  it('lists functions of an allowed namespace with their namespace set', async () => {
    const token = await tokenAllowing({ action: ['Function:List'], resource: ['dev:*'] });
    const reply = await callWithToken(gateway, '/system/functions?namespace=dev', token);

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual([
      {
        name: 'nodeinfo',
        image: 'ghcr.io/openfaas/nodeinfo:latest',
        namespace: 'dev',
        createdAt: expect.any(String),
        annotations: { topic: 'cron-function', schedule: '*/5 * * * *' },
      },
    ]);
  });

  it('forbids listing functions of another namespace with a plain-text 403', async () => {
    const token = await tokenAllowing({ action: ['Function:List'], resource: ['dev:*'] });
    const reply = await callWithToken(gateway, '/system/functions?namespace=staging', token);

    expect(reply.status).toBe(403);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(reply.text).toBe('forbidden: Function:List is not allowed on namespace staging');
  });

  it('uses openfaas-fn when the namespace parameter is missing', async () => {
    const token = await tokenAllowing({ action: ['Function:List'], resource: ['openfaas-fn:*'] });
    gateway.setFunctions('openfaas-fn', [cronFunction('env', '* * * * *')]);
    const reply = await callWithToken(gateway, '/system/functions', token);

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject([{ name: 'env', namespace: 'openfaas-fn' }]);
  });

  it('answers 404 for an allowed but unknown namespace', async () => {
    const token = await tokenAllowing({ action: ['Function:List'], resource: ['*'] });
    const reply = await callWithToken(gateway, '/system/functions?namespace=gone', token);
    expect(reply.status).toBe(404);
  });

  it('grants every action of a family with a Function:* wildcard', async () => {
    const token = await tokenAllowing({ action: ['Function:*'], resource: ['staging:*'] });
    expect((await callWithToken(gateway, '/system/functions?namespace=staging', token)).status).toBe(200);
    expect(await namespacesVisibleWith(token)).toEqual([]);
  });

  it('grants everything with the * action', async () => {
    const token = await tokenAllowing({ action: ['*'], resource: ['staging:*'] });
    expect((await callWithToken(gateway, '/system/functions?namespace=staging', token)).status).toBe(200);
    expect(await namespacesVisibleWith(token)).toEqual(['staging']);
  });

  it('does not treat a namespace resource as a prefix', async () => {
    gateway.setNamespaces(['dev', 'dev-2']);
    const token = await tokenAllowing({ action: ['Namespace:List'], resource: ['dev:*'] });
    expect(await namespacesVisibleWith(token)).toEqual(['dev']);
  });

  it('evaluates the current Policy objects named in the token', async () => {
    const token = await tokenAllowing({ action: ['Function:List'], resource: ['dev:*'] });
    gateway.setPolicy('p', { statement: [{ sid: '1', effect: 'Allow', action: ['Function:List'], resource: ['staging:*'] }] });
    expect((await callWithToken(gateway, '/system/functions?namespace=staging', token)).status).toBe(200);

    gateway.deletePolicy('p');
    expect((await callWithToken(gateway, '/system/functions?namespace=staging', token)).status).toBe(403);
  });

  it('answers other methods on the list endpoints with 405', async () => {
    const token = await tokenAllowing({ action: ['*'], resource: ['*'] });
    const reply = await call(gateway, '/system/namespaces', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET');
  });
});
