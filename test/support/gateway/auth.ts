/**
 * Authentication and authorization of `/system/*` calls.
 * - `iam`: an OpenFaaS access token (Bearer), or the admin's HTTP Basic credentials when configured
 *   (the super-user account still works with IAM enabled).
 * - `basic`: HTTP Basic with the configured admin user (OpenFaaS CE/Standard).
 * - `none`: open.
 */
import { timingSafeEqual } from 'node:crypto';
import { HttpError, bearerToken } from './http-io.ts';
import type { IamStore } from './iam-store.ts';
import type { PolicySpec } from './iam-types.ts';
import { isAllowed } from './permissions.ts';
import type { Resource } from './permissions.ts';
import type { SystemIssuer } from './system-issuer.ts';

export type AuthMode = 'iam' | 'basic' | 'none';

export interface BasicCredentials {
  user: string;
  password: string;
}

export interface AuthConfig {
  mode: AuthMode;
  basicAuth: BasicCredentials | undefined;
  systemIssuer: SystemIssuer;
}

/** Who is calling: the admin (basic auth / no auth), or a federated identity with its token's policies. */
export type Caller = { kind: 'admin' } | { kind: 'federated'; sub: string; policies: readonly string[] };

const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="Restricted"' };

export async function authenticate(authorization: string | undefined, config: AuthConfig): Promise<Caller> {
  switch (config.mode) {
    case 'none':
      return { kind: 'admin' };
    case 'basic':
      if (config.basicAuth !== undefined && basicMatches(authorization, config.basicAuth)) return { kind: 'admin' };
      throw new HttpError(401, 'unauthorized: invalid credentials', BASIC_CHALLENGE);
    case 'iam':
      return authenticateIam(authorization, config);
  }
}

async function authenticateIam(authorization: string | undefined, config: AuthConfig): Promise<Caller> {
  if (config.basicAuth !== undefined && basicMatches(authorization, config.basicAuth)) return { kind: 'admin' };
  const token = bearerToken(authorization);
  if (token === undefined) throw new HttpError(401, 'unauthorized: missing bearer token');
  const result = await config.systemIssuer.verify(token);
  if (!result.ok) throw new HttpError(401, `unauthorized: ${result.reason}`);
  return { kind: 'federated', sub: result.claims.sub, policies: result.claims.policy };
}

/** Whether `caller` may perform `action` on `resource`, resolving policy names to the current Policies. */
export function isCallerAllowed(caller: Caller, action: string, resource: Resource, iam: IamStore): boolean {
  if (caller.kind === 'admin') return true;
  const policies = caller.policies.map((name) => iam.policy(name)).filter((policy): policy is PolicySpec => policy !== undefined);
  return isAllowed(policies, action, resource);
}

function basicMatches(authorization: string | undefined, expected: BasicCredentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (match?.[1] === undefined) return false;
  const given = Buffer.from(match[1], 'base64');
  const wanted = Buffer.from(`${expected.user}:${expected.password}`, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
