import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { cronFunction } from '../support/gateway.ts';
import { call, exchange, exchangeForm, postToken } from './client.ts';
import { useIamGateway } from './iam-gateway.ts';

describe('per-function tokens', () => {
  const t = useIamGateway((t) => {
    t.gateway.setPolicy('invoke-dev', { statement: [{ sid: 'i', effect: 'Allow', action: ['Function:Invoke'], resource: ['dev:*'] }] });
    t.gateway.setRole('cron-connector', { policy: ['cron-connector', 'invoke-dev'], principal: { 'jwt:sub': [t.iam.subject] } });
    t.gateway.setFunctions('dev', [{ ...cronFunction('secure', '* * * * *'), envVars: { jwt_auth: 'true' } }]);
  });

  it('issues a token whose audience is the function', async () => {
    const token = await exchange(t.gateway, await t.iam.serviceAccountToken(), { scope: 'function', audience: 'dev:secure' });
    expect(decodeJwt(token)).toMatchObject({ aud: 'dev:secure', sub: `fed:${t.iam.subject}` });
  });

  it('refuses when no policy grants Function:Invoke on the namespace', async () => {
    const reply = await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken(), { scope: 'function', audience: 'prod:secure' }));
    expect(reply.status).toBe(400);
    expect(reply.body['error_description']).toBe(`policy does not allow Function:Invoke on prod:secure for subject: ${t.iam.subject}`);
  });

  it('requires an audience of the form <namespace>:<name>', async () => {
    const reply = await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken(), { scope: 'function', audience: 'secure' }));
    expect(reply.status).toBe(400);
    expect(reply.body['error_description']).toMatch(/^audience must be <namespace>:<name> when scope=function/);
  });

  it('lets a jwt_auth function be invoked only with its own token', async () => {
    const own = await exchange(t.gateway, await t.iam.serviceAccountToken(), { scope: 'function', audience: 'dev:secure' });
    const system = await exchange(t.gateway, await t.iam.serviceAccountToken());
    const invoke = (token?: string): Promise<number> =>
      call(t.gateway, '/function/secure.dev', { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }).then((r) => r.status);

    expect(await invoke()).toBe(401);
    expect(await invoke(system)).toBe(401);
    expect(await invoke(own)).toBe(200);
    expect(t.gateway.invocations).toHaveLength(1);
  });

  it('does not accept a function token on the system API', async () => {
    const own = await exchange(t.gateway, await t.iam.serviceAccountToken(), { scope: 'function', audience: 'dev:secure' });
    const reply = await call(t.gateway, '/system/namespaces', { headers: { authorization: `Bearer ${own}` } });
    expect(reply.status).toBe(401);
  });
});
