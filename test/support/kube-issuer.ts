/**
 * A Kubernetes-style OIDC issuer: signs RS256 projected ServiceAccount tokens the way the
 * kube-apiserver does for a `serviceAccountToken` projected volume.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload } from 'jose';

export const KUBERNETES_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface KubeIssuerOptions {
  /** Issuer URL, the `iss` claim. Default: the in-cluster issuer `https://kubernetes.default.svc.cluster.local`. */
  iss?: string;
}

export interface ServiceAccountTokenRequest {
  /** Default: `system:serviceaccount:<namespace>:<serviceAccount>`. */
  sub?: string;
  /** Default: `openfaas`. */
  namespace?: string;
  /** Default: `cron-connector`. */
  serviceAccount?: string;
  /** The projected volume's `audience`; always emitted as an array, like Kubernetes does. */
  aud: string | string[];
  /** Default: 3600. May be zero or negative to mint an already-expired token. */
  lifetimeSeconds?: number;
  /** Pod name. Default: `<serviceAccount>-<random>`. */
  pod?: string;
  /** Extra claims, merged last (so they can override the defaults). */
  extra?: Record<string, unknown>;
  /** `nbf` as Unix seconds. Default: `iat`. */
  notBefore?: number;
  /** `iat` as Unix seconds. Default: now. `exp` is `iat + lifetimeSeconds`. */
  issuedAt?: number;
}

const ALG = 'RS256';

export class KubeIssuer {
  readonly iss: string;
  readonly #privateKey: CryptoKey;
  readonly #publicJwk: JWK;

  private constructor(iss: string, privateKey: CryptoKey, publicJwk: JWK) {
    this.iss = iss;
    this.#privateKey = privateKey;
    this.#publicJwk = publicJwk;
  }

  static async create(opts: KubeIssuerOptions = {}): Promise<KubeIssuer> {
    const { privateKey, publicKey } = await generateKeyPair(ALG);
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: ALG, use: 'sig' };
    return new KubeIssuer(opts.iss ?? KUBERNETES_ISSUER, privateKey, publicJwk);
  }

  /** The public signing keys, as served from the issuer's `jwks_uri`. */
  jwks(): JSONWebKeySet {
    return { keys: [{ ...this.#publicJwk }] };
  }

  async issue(request: ServiceAccountTokenRequest): Promise<string> {
    const payload = serviceAccountClaims(this.iss, request);
    return new SignJWT(payload).setProtectedHeader({ alg: ALG, kid: this.#publicJwk.kid }).sign(this.#privateKey);
  }
}

function serviceAccountClaims(iss: string, request: ServiceAccountTokenRequest): JWTPayload {
  const namespace = request.namespace ?? 'openfaas';
  const serviceAccount = request.serviceAccount ?? 'cron-connector';
  const iat = request.issuedAt ?? Math.floor(Date.now() / 1000);
  return {
    iss,
    sub: request.sub ?? `system:serviceaccount:${namespace}:${serviceAccount}`,
    aud: Array.isArray(request.aud) ? [...request.aud] : [request.aud],
    iat,
    nbf: request.notBefore ?? iat,
    exp: iat + (request.lifetimeSeconds ?? 3600),
    'kubernetes.io': {
      namespace,
      pod: { name: request.pod ?? `${serviceAccount}-${randomUUID().slice(0, 8)}`, uid: randomUUID() },
      serviceaccount: { name: serviceAccount, uid: randomUUID() },
    },
    ...request.extra,
  };
}
