import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, callWithToken, exchange } from './client.ts';
import { useIamGateway } from './iam-gateway.ts';
import { startGateway } from '../support/gateway.ts';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('access token validation on the system API', () => {
  const t = useIamGateway((t) => {
    t.gateway.setNamespaces(['dev']);
  });

  it('accepts a token from the exchange', async () => {
    const token = await exchange(t.gateway, await t.iam.serviceAccountToken());
    const reply = await callWithToken(t.gateway, '/system/namespaces', token);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual(['dev']);
  });

  it('answers 401 without a bearer token', async () => {
    const reply = await call(t.gateway, '/system/namespaces');
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: missing bearer token');
  });

  it('answers 401 for a token that is not a JWT', async () => {
    const reply = await callWithToken(t.gateway, '/system/functions?namespace=dev', 'garbage');
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: invalid token');
  });

  it('answers 401 for a token signed by another gateway', async () => {
    const other = await startGateway({ systemIssuer: t.gateway.systemIssuer });
    const foreign = await other.issueAccessToken({ sub: 'fed:x', policy: ['cron-connector'] });
    await other.close();

    const reply = await callWithToken(t.gateway, '/system/namespaces', foreign);
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: invalid token');
  });

  it('answers 401 for a token that already expired', async () => {
    const expired = await t.gateway.issueAccessToken({ sub: 'fed:x', policy: ['cron-connector'], issuedAt: nowSeconds() - 120, lifetimeSeconds: 60 });
    const reply = await callWithToken(t.gateway, '/system/namespaces', expired);
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: token expired');
  });

  it('answers 401 once an exchanged one-second token passes its exp', async () => {
    t.gateway.setTokenLifetime(1);
    const token = await exchange(t.gateway, await t.iam.serviceAccountToken());
    const exp = decodeJwt(token).exp ?? 0;
    expect((await callWithToken(t.gateway, '/system/namespaces', token)).status).toBe(200);

    await t.gateway.waitFor(() => nowSeconds() >= exp, 2_000, 'the token to expire');
    const reply = await callWithToken(t.gateway, '/system/namespaces', token);
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: token expired');
  });

  it('authenticates unknown system paths before answering 404', async () => {
    expect((await call(t.gateway, '/system/info')).status).toBe(401);
    const token = await t.gateway.issueAccessToken({ sub: 'fed:x', policy: [] });
    expect((await callWithToken(t.gateway, '/system/info', token)).status).toBe(404);
  });
});
