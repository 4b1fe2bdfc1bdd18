import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { setupConnectorIam } from '../support/iam-fixture.ts';
import type { ConnectorIam } from '../support/iam-fixture.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';
import { call, exchangeForm, postToken } from './client.ts';

describe('token exchange failures', () => {
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

  async function expectRejection(fields: Record<string, string>, description: string | RegExp): Promise<void> {
    const reply = await postToken(gateway, fields);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(description) });
  }

  it('requires the token-exchange grant type', async () => {
    const token = await iam.serviceAccountToken();
    await expectRejection(exchangeForm(token, { grant_type: 'client_credentials' }), /^grant_type must be urn:ietf:params:oauth:grant-type:token-exchange/);
    const { grant_type: _omitted, ...withoutGrant } = exchangeForm(token);
    await expectRejection(withoutGrant, /^grant_type must be/);
  });

  it('requires a subject_token', async () => {
    await expectRejection(exchangeForm(''), 'subject_token is required');
  });

  it('requires the id_token subject token type', async () => {
    const form = exchangeForm(await iam.serviceAccountToken(), { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    await expectRejection(form, /^subject_token_type must be urn:ietf:params:oauth:token-type:id_token/);
  });

  it('rejects a body that is not form-encoded', async () => {
    const reply = await call(gateway, '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(exchangeForm(await iam.serviceAccountToken())),
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text)).toEqual({ error: 'invalid_request', error_description: 'Content-Type must be application/x-www-form-urlencoded' });
  });

  it('rejects a subject token that is not a JWT', async () => {
    await expectRejection(exchangeForm('garbage'), /^invalid token: /);
  });

  it('reports an unregistered issuer by name', async () => {
    const stranger = await KubeIssuer.create({ iss: 'https://oidc.example.com' });
    const token = await stranger.issue({ aud: gateway.url });
    await expectRejection(exchangeForm(token), 'issuer not registered: https://oidc.example.com');
  });

  it('reports missing JWKS keys when the set is empty', async () => {
    gateway.addJwtIssuer('kubernetes', { iss: iam.kube.iss, aud: [gateway.url], jwks: { keys: [] } });
    await expectRejection(exchangeForm(await iam.serviceAccountToken()), 'Could not validate JWT token, JWKS keys missing.');
  });

  it('reports missing JWKS keys when the keys cannot be fetched', async () => {
    gateway.addJwtIssuer('kubernetes', { iss: iam.kube.iss, aud: [gateway.url], jwks: () => undefined });
    await expectRejection(exchangeForm(await iam.serviceAccountToken()), 'Could not validate JWT token, JWKS keys missing.');
  });

  it('rejects a token signed by another key for the same issuer', async () => {
    const impostor = await KubeIssuer.create({ iss: iam.kube.iss });
    const token = await impostor.issue({ aud: gateway.url });
    await expectRejection(exchangeForm(token), /^invalid token: /);
  });

  it('rejects a tampered token', async () => {
    const [header, , signature] = (await iam.serviceAccountToken()).split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ iss: iam.kube.iss, sub: 'system:serviceaccount:openfaas:admin', aud: [gateway.url] })).toString('base64url');
    await expectRejection(exchangeForm(`${header}.${forgedClaims}.${signature}`), /^invalid token: /);
  });

  it('rejects an expired subject token', async () => {
    const token = await iam.serviceAccountToken({ issuedAt: Math.floor(Date.now() / 1000) - 700, lifetimeSeconds: 600 });
    await expectRejection(exchangeForm(token), /^token expired$/);
  });

  it('rejects a subject token for another audience', async () => {
    const token = await iam.serviceAccountToken({ aud: 'https://kubernetes.default.svc' });
    await expectRejection(exchangeForm(token), /^audience not valid$/);
  });

  it('reports the subject when no role matches', async () => {
    const token = await iam.serviceAccountToken({ serviceAccount: 'someone-else' });
    await expectRejection(exchangeForm(token), /^No policies found for subject: system:serviceaccount:openfaas:someone-else$/);
  });

  it('finds no policies when the matching role only names deleted policies', async () => {
    gateway.deletePolicy('cron-connector');
    await expectRejection(exchangeForm(await iam.serviceAccountToken()), `No policies found for subject: ${iam.subject}`);
  });

  it('stops accepting tokens of a removed issuer', async () => {
    gateway.removeJwtIssuer('kubernetes');
    await expectRejection(exchangeForm(await iam.serviceAccountToken()), `issuer not registered: ${iam.kube.iss}`);
  });

  it('answers other methods with 405', async () => {
    const reply = await call(gateway, '/oauth/token');
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('POST');
  });

  it('records failed exchanges with the subject and the reason', async () => {
    await postToken(gateway, exchangeForm(await iam.serviceAccountToken({ aud: 'elsewhere' })));
    expect(gateway.exchanges).toEqual([{ at: expect.any(Number), ok: false, sub: iam.subject, error: 'audience not valid' }]);
    expect(gateway.issuedTokens).toEqual([]);
  });
});
