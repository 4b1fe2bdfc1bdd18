/** The gateway's own issuer: signs OpenFaaS access tokens (ES256) and verifies them on API calls. */
import { randomUUID } from 'node:crypto';
import { SignJWT, errors, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload } from 'jose';

const ALG = 'ES256';

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  policy: string[];
}

export interface SignOptions {
  /** Default: the system issuer URL. Per-function tokens use `<namespace>:<name>`. */
  aud?: string;
  lifetimeSeconds: number;
  /** `iat` as Unix seconds. Default: now. */
  issuedAt?: number;
}

export type VerifyResult = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: 'token expired' | 'invalid token' };

export class SystemIssuer {
  readonly iss: string;
  readonly #privateKey: CryptoKey;
  readonly #publicKey: CryptoKey;
  readonly #publicJwk: JWK;

  private constructor(iss: string, privateKey: CryptoKey, publicKey: CryptoKey, publicJwk: JWK) {
    this.iss = iss;
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.#publicJwk = publicJwk;
  }

  static async create(iss: string): Promise<SystemIssuer> {
    const { privateKey, publicKey } = await generateKeyPair(ALG);
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: ALG, use: 'sig' };
    return new SystemIssuer(iss, privateKey, publicKey, publicJwk);
  }

  jwks(): JSONWebKeySet {
    return { keys: [{ ...this.#publicJwk }] };
  }

  async sign(claims: AccessTokenClaims, options: SignOptions): Promise<string> {
    const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      ...claims,
      iss: this.iss,
      aud: options.aud ?? this.iss,
      iat,
      nbf: iat,
      exp: iat + options.lifetimeSeconds,
    };
    return new SignJWT(payload).setProtectedHeader({ alg: ALG, kid: this.#publicJwk.kid, typ: 'JWT' }).sign(this.#privateKey);
  }

  /** Checks signature, `iss`, `aud` (default: the system issuer) and `exp`/`nbf`. */
  async verify(token: string, audience: string = this.iss): Promise<VerifyResult> {
    try {
      const { payload } = await jwtVerify(token, this.#publicKey, { issuer: this.iss, audience, algorithms: [ALG] });
      return isAccessTokenClaims(payload) ? { ok: true, claims: payload } : { ok: false, reason: 'invalid token' };
    } catch (error) {
      return { ok: false, reason: error instanceof errors.JWTExpired ? 'token expired' : 'invalid token' };
    }
  }
}

function isAccessTokenClaims(payload: JWTPayload): payload is AccessTokenClaims {
  const policy = payload['policy'];
  return typeof payload.sub === 'string' && Array.isArray(policy) && policy.every((name) => typeof name === 'string');
}
