import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { call, exchangeForm } from './client.ts';

const ADMIN = { user: 'admin', password: 's3cret' };

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

describe('basic auth and open modes', () => {
  let gateway: GatewayEmulator | undefined;

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('refuses basic mode without credentials to check against', async () => {
    await expect(startGateway({ auth: 'basic' })).rejects.toThrow('auth: basic requires basicAuth');
  });

  it('challenges requests without valid credentials in basic mode', async () => {
    gateway = await startGateway({ auth: 'basic', basicAuth: ADMIN });
    for (const headers of [{}, basic('admin', 'wrong'), basic('root', 's3cret'), { authorization: 'Basic !!!' }]) {
      const reply = await call(gateway, '/system/namespaces', { headers });
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="Restricted"');
    }
  });

  it('serves the system API to the admin in basic mode', async () => {
    gateway = await startGateway({ auth: 'basic', basicAuth: ADMIN });
    gateway.setNamespaces(['openfaas-fn', 'dev']);
    const reply = await call(gateway, '/system/namespaces', { headers: basic('admin', 's3cret') });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual(['openfaas-fn', 'dev']);
  });

  it('has no token endpoint outside IAM mode', async () => {
    gateway = await startGateway({ auth: 'basic', basicAuth: ADMIN });
    const reply = await call(gateway, '/oauth/token', { method: 'POST', body: new URLSearchParams(exchangeForm('x')) });
    expect(reply.status).toBe(404);
  });

  it('serves everything without credentials in none mode', async () => {
    gateway = await startGateway({ auth: 'none' });
    gateway.setFunctions('dev', [{ name: 'env', image: 'ghcr.io/openfaas/alpine:latest' }]);
    expect(JSON.parse((await call(gateway, '/system/namespaces')).text)).toEqual(['dev']);
    expect((await call(gateway, '/system/functions?namespace=dev')).status).toBe(200);
  });

  it('accepts the admin credentials as super-user in IAM mode', async () => {
    gateway = await startGateway({ auth: 'iam', basicAuth: ADMIN });
    gateway.setNamespaces(['dev']);
    expect((await call(gateway, '/system/functions?namespace=dev', { headers: basic('admin', 's3cret') })).status).toBe(200);
    expect((await call(gateway, '/system/functions?namespace=dev', { headers: basic('admin', 'nope') })).status).toBe(401);
  });
});
