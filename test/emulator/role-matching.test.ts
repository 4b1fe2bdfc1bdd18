import { decodeJwt } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';
import { exchangeForm, postToken } from './client.ts';

const READ_ONLY = { statement: [{ sid: 'r', effect: 'Allow' as const, action: ['Function:List'], resource: ['*'] }] };

describe('role matching', () => {
  let kube: KubeIssuer;
  let gateway: GatewayEmulator;

  beforeAll(async () => {
    kube = await KubeIssuer.create();
  });
  beforeEach(async () => {
    gateway = await startGateway();
    gateway.addJwtIssuer('kubernetes', { iss: kube.iss, aud: [gateway.url], jwks: kube.jwks() });
    gateway.setPolicy('read', READ_ONLY);
    gateway.setPolicy('other', READ_ONLY);
  });
  afterEach(() => gateway.close());

  /** The policies granted for a token with `claims`, or the error description. */
  async function policiesFor(claims: { serviceAccount?: string; extra?: Record<string, unknown> } = {}): Promise<unknown> {
    const token = await kube.issue({ aud: gateway.url, ...claims });
    const reply = await postToken(gateway, exchangeForm(token));
    return reply.status === 200 ? decodeJwt(String(reply.body['access_token']))['policy'] : reply.body['error_description'];
  }

  it('matches a role whose principal lists the subject', async () => {
    gateway.setRole('r', { policy: ['read'], principal: { 'jwt:sub': ['system:serviceaccount:openfaas:other', 'system:serviceaccount:openfaas:cron-connector'] } });
    expect(await policiesFor()).toEqual(['read']);
  });

  it('does not match a role whose principal lists other subjects', async () => {
    gateway.setRole('r', { policy: ['read'], principal: { 'jwt:sub': ['system:serviceaccount:openfaas:other'] } });
    expect(await policiesFor()).toBe('No policies found for subject: system:serviceaccount:openfaas:cron-connector');
  });

  it('requires both the principal and every condition to match', async () => {
    gateway.setRole('r', {
      policy: ['read'],
      principal: { 'jwt:sub': ['system:serviceaccount:openfaas:cron-connector'] },
      condition: { StringEqual: { 'jwt:iss': ['https://oidc.example.com'] } },
    });
    expect(await policiesFor()).toMatch(/^No policies found/);
  });

  it('matches StringEqual exactly', async () => {
    gateway.setRole('r', { policy: ['read'], condition: { StringEqual: { 'jwt:iss': [kube.iss] } } });
    gateway.setRole('prefix', { policy: ['other'], condition: { StringEqual: { 'jwt:iss': ['https://kubernetes'] } } });
    expect(await policiesFor()).toEqual(['read']);
  });

  it('matches StringLike with * and ? wildcards', async () => {
    gateway.setRole('star', { policy: ['read'], condition: { StringLike: { 'jwt:email': ['*@example.com'] } } });
    gateway.setRole('question', { policy: ['other'], condition: { StringLike: { 'jwt:sub': ['system:serviceaccount:openfaas:cron-connecto?'] } } });
    expect(await policiesFor({ extra: { email: 'ops@example.com' } })).toEqual(['read', 'other']);
    expect(await policiesFor({ extra: { email: 'ops@example.org' }, serviceAccount: 'cron-connectors' })).toMatch(/^No policies found/);
  });

  it('treats StringLike patterns literally apart from the wildcards', async () => {
    gateway.setRole('r', { policy: ['read'], condition: { StringLike: { 'jwt:email': ['ops.(team)@example.com'] } } });
    expect(await policiesFor({ extra: { email: 'ops.(team)@example.com' } })).toEqual(['read']);
    expect(await policiesFor({ extra: { email: 'opsX(team)@example.com' } })).toMatch(/^No policies found/);
  });

  it('matches array claims when any element matches', async () => {
    gateway.setRole('r', { policy: ['read'], condition: { StringEqual: { 'jwt:groups': ['operators'] } } });
    expect(await policiesFor({ extra: { groups: ['developers', 'operators'] } })).toEqual(['read']);
  });

  it('does not match a condition on a claim the token lacks', async () => {
    gateway.setRole('r', { policy: ['read'], condition: { StringLike: { 'jwt:email': ['*'] } } });
    expect(await policiesFor()).toMatch(/^No policies found/);
  });

  it('combines and deduplicates the policies of all matching roles', async () => {
    gateway.setRole('a', { policy: ['read', 'other'], condition: { StringEqual: { 'jwt:iss': [kube.iss] } } });
    gateway.setRole('b', { policy: ['other', 'read'] });
    expect(await policiesFor()).toEqual(['read', 'other']);
  });

  it('reports no policies when no role exists', async () => {
    expect(await policiesFor()).toBe('No policies found for subject: system:serviceaccount:openfaas:cron-connector');
  });

  it('applies role changes from the next exchange on', async () => {
    gateway.setRole('r', { policy: ['read'] });
    expect(await policiesFor()).toEqual(['read']);
    gateway.setRole('r', { policy: ['other'] });
    expect(await policiesFor()).toEqual(['other']);
    gateway.deleteRole('r');
    expect(await policiesFor()).toMatch(/^No policies found/);
  });

  it('rejects malformed roles when they are set', () => {
    expect(() => gateway.setRole('r', { policy: [] })).toThrow(/policy must be a non-empty array/);
    expect(() => gateway.setRole('r', { policy: ['read'], principal: { sub: ['x'] } })).toThrow(/must start with "jwt:"/);
  });
});
