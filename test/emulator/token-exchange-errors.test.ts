import { describe, expect, it } from 'vitest';
import { call, exchangeForm, postToken } from './client.ts';
import { useIamGateway } from './iam-gateway.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';

describe('token exchange failures', () => {
  const t = useIamGateway();

  async function expectRejection(fields: Record<string, string>, description: string | RegExp): Promise<void> {
    const reply = await postToken(t.gateway, fields);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(description) });
  }

  it('requires the token-exchange grant type', async () => {
    const token = await t.iam.serviceAccountToken();
    await expectRejection(exchangeForm(token, { grant_type: 'client_credentials' }), /^grant_type must be urn:ietf:params:oauth:grant-type:token-exchange/);
    const withoutGrant: Record<string, string> = { ...exchangeForm(token) };
    delete withoutGrant['grant_type'];
    await expectRejection(withoutGrant, /^grant_type must be/);
  });

  it('requires a subject_token', async () => {
    await expectRejection(exchangeForm(''), 'subject_token is required');
  });

  it('requires the id_token subject token type', async () => {
    const form = exchangeForm(await t.iam.serviceAccountToken(), { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    await expectRejection(form, /^subject_token_type must be urn:ietf:params:oauth:token-type:id_token/);
  });

  it('rejects a body that is not form-encoded', async () => {
    const reply = await call(t.gateway, '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(exchangeForm(await t.iam.serviceAccountToken())),
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text)).toEqual({ error: 'invalid_request', error_description: 'Content-Type must be application/x-www-form-urlencoded' });
  });

  it('rejects a subject token that is not a JWT', async () => {
    await expectRejection(exchangeForm('garbage'), /^invalid token: /);
  });

  it('reports an unregistered issuer by name', async () => {
    const stranger = await KubeIssuer.create({ iss: 'https://oidc.example.com' });
    const token = await stranger.issue({ aud: t.gateway.url });
    await expectRejection(exchangeForm(token), 'issuer not registered: https://oidc.example.com');
  });

  it('reports missing JWKS keys when the set is empty', async () => {
    t.gateway.addJwtIssuer('kubernetes', { iss: t.iam.kube.iss, aud: [t.gateway.url], jwks: { keys: [] } });
    await expectRejection(exchangeForm(await t.iam.serviceAccountToken()), 'Could not validate JWT token, JWKS keys missing.');
  });

  it('reports missing JWKS keys when the keys cannot be fetched', async () => {
    t.gateway.addJwtIssuer('kubernetes', { iss: t.iam.kube.iss, aud: [t.gateway.url], jwks: () => undefined });
    await expectRejection(exchangeForm(await t.iam.serviceAccountToken()), 'Could not validate JWT token, JWKS keys missing.');
  });

  it('rejects a token signed by another key for the same issuer', async () => {
    const impostor = await KubeIssuer.create({ iss: t.iam.kube.iss });
    const token = await impostor.issue({ aud: t.gateway.url });
    await expectRejection(exchangeForm(token), /^invalid token: /);
  });

  it('rejects a tampered token', async () => {
    const [header, , signature] = (await t.iam.serviceAccountToken()).split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ iss: t.iam.kube.iss, sub: 'system:serviceaccount:openfaas:admin', aud: [t.gateway.url] })).toString('base64url');
    await expectRejection(exchangeForm(`${header}.${forgedClaims}.${signature}`), /^invalid token: /);
  });

  it('rejects an expired subject token', async () => {
    const token = await t.iam.serviceAccountToken({ issuedAt: Math.floor(Date.now() / 1000) - 700, lifetimeSeconds: 600 });
    await expectRejection(exchangeForm(token), /^token expired$/);
  });

  it('rejects a subject token for another audience', async () => {
    const token = await t.iam.serviceAccountToken({ aud: 'https://kubernetes.default.svc' });
    await expectRejection(exchangeForm(token), /^audience not valid$/);
  });

  it('reports the subject when no role matches', async () => {
    const token = await t.iam.serviceAccountToken({ serviceAccount: 'someone-else' });
    await expectRejection(exchangeForm(token), /^No policies found for subject: system:serviceaccount:openfaas:someone-else$/);
  });

  it('finds no policies when the matching role only names deleted policies', async () => {
    t.gateway.deletePolicy('cron-connector');
    await expectRejection(exchangeForm(await t.iam.serviceAccountToken()), `No policies found for subject: ${t.iam.subject}`);
  });

  it('stops accepting tokens of a removed issuer', async () => {
    t.gateway.removeJwtIssuer('kubernetes');
    await expectRejection(exchangeForm(await t.iam.serviceAccountToken()), `issuer not registered: ${t.iam.kube.iss}`);
  });

  it('answers other methods with 405', async () => {
    const reply = await call(t.gateway, '/oauth/token');
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('POST');
  });

  it('records failed exchanges with the subject and the reason', async () => {
    await postToken(t.gateway, exchangeForm(await t.iam.serviceAccountToken({ aud: 'elsewhere' })));
    expect(t.gateway.exchanges).toEqual([{ at: expect.any(Number), ok: false, sub: t.iam.subject, error: 'audience not valid' }]);
    expect(t.gateway.issuedTokens).toEqual([]);
  });
});
