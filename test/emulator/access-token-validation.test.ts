import { decodeJwt } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { setupConnectorIam } from '../support/iam-fixture.ts';
import type { ConnectorIam } from '../support/iam-fixture.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';
import { call, callWithToken, exchange } from './client.ts';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('access token validation on the system API', () => {
  let gateway: GatewayEmulator;
  let iam: ConnectorIam;
  let kube: KubeIssuer;

  beforeAll(async () => {
    kube = await KubeIssuer.create();
  });
  beforeEach(async () => {
    gateway = await startGateway();
    iam = await setupConnectorIam(gateway, { kube });
    gateway.setNamespaces(['dev']);
  });
  afterEach(() => gateway.close());

  it('accepts a token from the exchange', async () => {
    const token = await exchange(gateway, await iam.serviceAccountToken());
    const reply = await callWithToken(gateway, '/system/namespaces', token);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual(['dev']);
  });

  it('answers 401 without a bearer token', async () => {
    const reply = await call(gateway, '/system/namespaces');
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: missing bearer token');
  });

  it('answers 401 for a token that is not a JWT', async () => {
    const reply = await callWithToken(gateway, '/system/functions?namespace=dev', 'garbage');
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: invalid token');
  });

  it('answers 401 for a token signed by another gateway', async () => {
    const other = await startGateway({ systemIssuer: gateway.systemIssuer });
    const foreign = await other.issueAccessToken({ sub: 'fed:x', policy: ['cron-connector'] });
    await other.close();

    const reply = await callWithToken(gateway, '/system/namespaces', foreign);
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: invalid token');
  });

  it('answers 401 for a token that already expired', async () => {
    const expired = await gateway.issueAccessToken({ sub: 'fed:x', policy: ['cron-connector'], issuedAt: nowSeconds() - 120, lifetimeSeconds: 60 });
    const reply = await callWithToken(gateway, '/system/namespaces', expired);
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: token expired');
  });

  it('answers 401 once an exchanged one-second token passes its exp', async () => {
    gateway.setTokenLifetime(1);
    const token = await exchange(gateway, await iam.serviceAccountToken());
    const exp = decodeJwt(token).exp ?? 0;
    expect((await callWithToken(gateway, '/system/namespaces', token)).status).toBe(200);

    await gateway.waitFor(() => nowSeconds() >= exp, 2_000, 'the token to expire');
    const reply = await callWithToken(gateway, '/system/namespaces', token);
    expect(reply.status).toBe(401);
    expect(reply.text).toBe('unauthorized: token expired');
  });

  it('authenticates unknown system paths before answering 404', async () => {
    expect((await call(gateway, '/system/info')).status).toBe(401);
    const token = await gateway.issueAccessToken({ sub: 'fed:x', policy: [] });
    expect((await callWithToken(gateway, '/system/info', token)).status).toBe(404);
  });
});
