import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, exchange, exchangeForm, postToken } from './client.ts';
import { useIamGateway } from './iam-gateway.ts';
import { startGateway } from '../support/gateway.ts';
import { setupConnectorIam } from '../support/iam-fixture.ts';

describe('token exchange', () => {
  const t = useIamGateway();

  it('issues an RFC 8693 response for a valid ServiceAccount token', async () => {
    const reply = await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken()));

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
    const token = await exchange(t.gateway, await t.iam.serviceAccountToken({ pod: 'cron-connector-abc' }));

    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(t.gateway.systemJwks()));
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      sub: `fed:${t.iam.subject}`,
      'fed:iss': t.iam.kube.iss,
      policy: ['cron-connector'],
      iss: t.gateway.url,
      aud: t.gateway.url,
      'kubernetes.io': { namespace: 'openfaas', pod: { name: 'cron-connector-abc' } },
    });
    expect(payload.exp).toBeGreaterThanOrEqual(before + 7200);
    expect(payload.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 7200);
  });

  it('accepts the fields in the query string, like the walkthrough curl', async () => {
    const query = new URLSearchParams(exchangeForm(await t.iam.serviceAccountToken()));
    const reply = await call(t.gateway, `/oauth/token?${query.toString()}`, { method: 'POST' });

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toHaveProperty('access_token');
  });

  it('uses the JwtIssuer tokenExpiry for expires_in and exp', async () => {
    t.gateway.addJwtIssuer('kubernetes', { iss: t.iam.kube.iss, aud: [t.gateway.url], tokenExpiry: '1h30m', jwks: t.iam.kube.jwks() });
    const reply = await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken()));

    expect(reply.body['expires_in']).toBe(5400);
    const claims = decodeJwt(String(reply.body['access_token']));
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(5400);
  });

  it('falls back to the default lifetime when the issuer has no tokenExpiry', async () => {
    t.gateway.addJwtIssuer('kubernetes', { iss: t.iam.kube.iss, aud: [t.gateway.url], jwks: t.iam.kube.jwks() });
    const reply = await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken()));

    expect(reply.body['expires_in']).toBe(3600);
  });

  it('lets setTokenLifetime override every other lifetime until cleared', async () => {
    t.gateway.setTokenLifetime(2);
    const short = await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken()));
    t.gateway.setTokenLifetime(undefined);
    const normal = await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken()));

    expect(short.body['expires_in']).toBe(2);
    expect(normal.body['expires_in']).toBe(7200);
  });

  it('signs tokens for a configured system issuer URL', async () => {
    const custom = await startGateway({ systemIssuer: 'https://gateway.example.com' });
    try {
      const customIam = await setupConnectorIam(custom, { kube: t.kube });
      const claims = decodeJwt(await exchange(custom, await customIam.serviceAccountToken()));
      expect(claims.iss).toBe('https://gateway.example.com');
      expect(claims.aud).toBe('https://gateway.example.com');
    } finally {
      await custom.close();
    }
  });

  it('records each exchange and every issued token', async () => {
    const token = await exchange(t.gateway, await t.iam.serviceAccountToken());
    await postToken(t.gateway, exchangeForm('not-a-jwt'));

    expect(t.gateway.issuedTokens).toEqual([token]);
    expect(t.gateway.exchanges).toEqual([
      { at: expect.any(Number), ok: true, sub: t.iam.subject, accessToken: token },
      { at: expect.any(Number), ok: false, error: expect.stringMatching(/^invalid token: /) },
    ]);
  });
});
