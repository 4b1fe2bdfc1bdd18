import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { KUBERNETES_ISSUER, KubeIssuer } from '../support/kube-issuer.ts';

describe('Kubernetes ServiceAccount token issuer', () => {
  let kube: KubeIssuer;

  beforeAll(async () => {
    kube = await KubeIssuer.create();
  });

  it('signs RS256 tokens verifiable with its JWKS', async () => {
    const token = await kube.issue({ aud: 'https://gateway.example.com' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(kube.jwks()), { issuer: KUBERNETES_ISSUER });

    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: kube.jwks().keys[0]?.kid });
    expect(payload.aud).toEqual(['https://gateway.example.com']);
  });

  it('publishes only public key material', () => {
    const [key] = kube.jwks().keys;
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String), n: expect.any(String), e: 'AQAB' });
    expect(key).not.toHaveProperty('d');
  });

  it('emits the projected token claims with defaults', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { payload } = await jwtVerify(await kube.issue({ aud: ['a', 'b'], pod: 'cron-connector-0' }), createLocalJWKSet(kube.jwks()));

    expect(payload).toMatchObject({
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: 'system:serviceaccount:openfaas:cron-connector',
      aud: ['a', 'b'],
      'kubernetes.io': {
        namespace: 'openfaas',
        pod: { name: 'cron-connector-0', uid: expect.any(String) },
        serviceaccount: { name: 'cron-connector', uid: expect.any(String) },
      },
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.exp).toBe((payload.iat ?? 0) + 3600);
  });

  it('honours the namespace, service account, lifetime, times and extra claims', async () => {
    const token = await kube.issue({ aud: 'x', namespace: 'tenant-a', serviceAccount: 'cron', lifetimeSeconds: 600, issuedAt: 1_000, notBefore: 900, extra: { email: 'a@b.c' } });
    const { payload } = await jwtVerify(token, createLocalJWKSet(kube.jwks()), { currentDate: new Date(1_000_000) });

    expect(payload).toMatchObject({ sub: 'system:serviceaccount:tenant-a:cron', iat: 1_000, nbf: 900, exp: 1_600, email: 'a@b.c' });
  });

  it('uses a custom issuer URL', async () => {
    const custom = await KubeIssuer.create({ iss: 'https://oidc.eks.example.com/id/ABC' });
    expect(custom.iss).toBe('https://oidc.eks.example.com/id/ABC');
  });
});
