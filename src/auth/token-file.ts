/**
 * The projected ServiceAccount token. The kubelet rotates it by swapping a `..data` symlink, so
 * the file is read again for every exchange and never cached.
 */
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { ConnectorError } from '../errors.ts';

/** Claims safe to log: never the token or its signature. */
export interface TokenClaims {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: readonly string[];
  /** Expiry, ms since the epoch. */
  readonly expMs?: number;
}

export interface ProjectedToken {
  readonly token: string;
  readonly claims: TokenClaims;
}

export function decodeClaims(token: string): TokenClaims {
  try {
    const payload = decodeJwt(token);
    const aud = payload.aud === undefined ? undefined : [payload.aud].flat();
    return {
      ...(payload.iss === undefined ? {} : { iss: payload.iss }),
      ...(payload.sub === undefined ? {} : { sub: payload.sub }),
      ...(aud === undefined ? {} : { aud }),
      ...(payload.exp === undefined ? {} : { expMs: payload.exp * 1000 }),
    };
  } catch {
    return {};
  }
}

export async function readProjectedToken(path: string): Promise<ProjectedToken> {
  let token: string;
  try {
    token = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new ConnectorError('E_TOKEN_FILE', `cannot read the projected ServiceAccount token at ${path}`, {
      cause: err,
      diagnosis: {
        cause: `no projected ServiceAccount token at ${path}`,
        fix: 'mount a projected serviceAccountToken volume with path openfaas-token and audience = system_issuer at token_mount_path (the Helm chart does this)',
      },
    });
  }
  if (token === '') {
    throw new ConnectorError('E_TOKEN_FILE', `the projected ServiceAccount token at ${path} is empty`, {
      diagnosis: { cause: `the projected ServiceAccount token at ${path} is empty`, fix: 'the kubelet writes this file: check the projected volume in the Pod spec' },
    });
  }
  return { token, claims: decodeClaims(token) };
}
