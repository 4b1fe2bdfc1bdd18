import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { setupConnectorIam } from '../support/iam-fixture.ts';
import type { ConnectorIam } from '../support/iam-fixture.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';
import { call, exchange, exchangeForm, postToken } from './client.ts';

describe('token exchange', () => {
  let gateway: GatewayEmulator;
  let iam: ConnectorIam;
  let kube: KubeIssuer;

  beforeAll(async () => {
    kube = await KubeIssuer.create();
  });
  beforeEach(async () => {
    gateway = await startGateway();
    iam = await setupConnectorIam(gateway, { kube });
  });
  afterEach(() => gateway.close());

  it('issues an RFC 8693 response for a valid ServiceAccount token', async () => {
    const reply = await postToken(gateway, exchangeForm(await iam.serviceAccountToken()));

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      access_token: expect.any(String),
      issued_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      token_type: 'Bearer',
      expires_in: 7200,
    });
  });

  it('issues an ES256 token with the federated subject, policies, audience and expiry', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await exchange(gateway, await iam.serviceAccountToken({ pod: 'cron-connector-abc' }));

    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(gateway.systemJwks()));
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      sub: `fed:${iam.subject}`,
      'fed:iss': iam.kube.iss,
      policy: ['cron-connector'],
      iss: gateway.url,
      aud: gateway.url,
      'kubernetes.io': { namespace: 'openfaas', pod: { name: 'cron-connector-abc' } },
    });
    expect(payload.exp).toBeGreaterThanOrEqual(before + 7200);
    expect(payload.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 7200);
  });

  it('accepts the fields in the query string, like the walkthrough curl', async () => {
    const query = new URLSearchParams(exchangeForm(await iam.serviceAccountToken()));
    const reply = await call(gateway, `/oauth/token?${query}`, { method: 'POST' });

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toHaveProperty('access_token');
  });

  it('uses the JwtIssuer tokenExpiry for expires_in and exp', async () => {
    gateway.addJwtIssuer('kubernetes', { iss: iam.kube.iss, aud: [gateway.url], tokenExpiry: '1h30m', jwks: iam.kube.jwks() });
    const reply = await postToken(gateway, exchangeForm(await iam.serviceAccountToken()));

    expect(reply.body['expires_in']).toBe(5400);
    const claims = decodeJwt(String(reply.body['access_token']));
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(5400);
  });

  it('falls back to the default lifetime when the issuer has no tokenExpiry', async () => {
    gateway.addJwtIssuer('kubernetes', { iss: iam.kube.iss, aud: [gateway.url], jwks: iam.kube.jwks() });
    const reply = await postToken(gateway, exchangeForm(await iam.serviceAccountToken()));

    expect(reply.body['expires_in']).toBe(3600);
  });

  it('lets setTokenLifetime override every other lifetime until cleared', async () => {
    gateway.setTokenLifetime(2);
    const short = await postToken(gateway, exchangeForm(await iam.serviceAccountToken()));
    gateway.setTokenLifetime(undefined);
    const normal = await postToken(gateway, exchangeForm(await iam.serviceAccountToken()));

    expect(short.body['expires_in']).toBe(2);
    expect(normal.body['expires_in']).toBe(7200);
  });

  it('signs tokens for a configured system issuer URL', async () => {
    const custom = await startGateway({ systemIssuer: 'https://gateway.example.com' });
    try {
      const customIam = await setupConnectorIam(custom, { kube });
      const claims = decodeJwt(await exchange(custom, await customIam.serviceAccountToken()));
      expect(claims.iss).toBe('https://gateway.example.com');
      expect(claims.aud).toBe('https://gateway.example.com');
    } finally {
      await custom.close();
    }
  });

  it('records each exchange and every issued token', async () => {
    const token = await exchange(gateway, await iam.serviceAccountToken());
    await postToken(gateway, exchangeForm('not-a-jwt'));

    expect(gateway.issuedTokens).toEqual([token]);
    expect(gateway.exchanges).toEqual([
      { at: expect.any(Number), ok: true, sub: iam.subject, accessToken: token },
      { at: expect.any(Number), ok: false, error: expect.stringMatching(/^invalid token: /) },
    ]);
  });
});
