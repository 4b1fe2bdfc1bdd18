/**
 * RFC 8693 token exchange as the OpenFaaS gateway implements it: a subject token from a
 * registered JwtIssuer is verified, matched against Roles, and exchanged for an OpenFaaS access
 * token carrying the matched policy names.
 */
import { createLocalJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import type { IamStore, StoredJwtIssuer } from './iam-store.ts';
import type { PolicySpec } from './iam-types.ts';
import { isAllowed } from './permissions.ts';
import { policiesForClaims } from './role-matcher.ts';
import type { AccessTokenClaims, SystemIssuer } from './system-issuer.ts';

export const GRANT_TYPE_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

export interface ExchangeContext {
  iam: IamStore;
  systemIssuer: SystemIssuer;
  /** Lifetime of the issued token for a subject token from `issuer`. */
  lifetimeSeconds: (issuer: StoredJwtIssuer) => number;
}

export type ExchangeOutcome =
  | { ok: true; sub: string; accessToken: string; expiresIn: number }
  | { ok: false; sub?: string; description: string };

/** A function-scoped request: `scope=function`, `audience=<namespace>:<name>`. */
interface FunctionAudience {
  namespace: string;
  name: string;
}

class ExchangeRejected extends Error {
  readonly sub: string | undefined;

  constructor(description: string, sub?: string) {
    super(description);
    this.sub = sub;
  }
}

export async function exchangeToken(fields: URLSearchParams, context: ExchangeContext): Promise<ExchangeOutcome> {
  try {
    return await exchange(fields, context);
  } catch (error) {
    if (error instanceof ExchangeRejected) {
      return error.sub === undefined ? { ok: false, description: error.message } : { ok: false, sub: error.sub, description: error.message };
    }
    throw error;
  }
}

async function exchange(fields: URLSearchParams, context: ExchangeContext): Promise<ExchangeOutcome> {
  const subjectToken = requireExchangeFields(fields);
  const functionAudience = parseFunctionAudience(fields);
  const unverified = decodeSubjectToken(subjectToken);
  const issuer = context.iam.issuerFor(unverified.iss ?? '');
  if (issuer === undefined) throw new ExchangeRejected(`issuer not registered: ${unverified.iss ?? ''}`, unverified.sub);

  const claims = await verifySubjectToken(subjectToken, issuer, unverified.sub);
  const sub = claims.sub;
  if (sub === undefined) throw new ExchangeRejected('invalid token: missing "sub" claim');

  const policyNames = policiesForClaims(context.iam.roles(), claims).filter((name) => context.iam.policy(name) !== undefined);
  if (policyNames.length === 0) throw new ExchangeRejected(`No policies found for subject: ${sub}`, sub);
  if (functionAudience !== undefined) requireInvokePermission(policyNames, functionAudience, context.iam, sub);

  const expiresIn = context.lifetimeSeconds(issuer);
  const accessToken = await context.systemIssuer.sign(accessTokenClaims(claims, sub, policyNames), {
    lifetimeSeconds: expiresIn,
    ...(functionAudience === undefined ? {} : { aud: `${functionAudience.namespace}:${functionAudience.name}` }),
  });
  return { ok: true, sub, accessToken, expiresIn };
}

function requireExchangeFields(fields: URLSearchParams): string {
  const grantType = fields.get('grant_type');
  if (grantType !== GRANT_TYPE_TOKEN_EXCHANGE) {
    throw new ExchangeRejected(`grant_type must be ${GRANT_TYPE_TOKEN_EXCHANGE}, got ${JSON.stringify(grantType ?? '')}`);
  }
  const subjectToken = fields.get('subject_token');
  if (subjectToken === null || subjectToken === '') throw new ExchangeRejected('subject_token is required');
  const subjectTokenType = fields.get('subject_token_type');
  if (subjectTokenType !== TOKEN_TYPE_ID_TOKEN) {
    throw new ExchangeRejected(`subject_token_type must be ${TOKEN_TYPE_ID_TOKEN}, got ${JSON.stringify(subjectTokenType ?? '')}`);
  }
  return subjectToken;
}

function parseFunctionAudience(fields: URLSearchParams): FunctionAudience | undefined {
  const scopes = (fields.get('scope') ?? '').split(' ');
  if (!scopes.includes('function')) return undefined;
  const audience = fields.get('audience') ?? '';
  const match = /^([^:]+):([^:]+)$/.exec(audience);
  if (match === null || match[1] === undefined || match[2] === undefined) {
    throw new ExchangeRejected(`audience must be <namespace>:<name> when scope=function, got ${JSON.stringify(audience)}`);
  }
  return { namespace: match[1], name: match[2] };
}

function decodeSubjectToken(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch (error) {
    throw new ExchangeRejected(`invalid token: ${errorMessage(error)}`);
  }
}

async function verifySubjectToken(token: string, issuer: StoredJwtIssuer, sub: string | undefined): Promise<JWTPayload> {
  const jwks = currentJwks(issuer);
  if (jwks === undefined) throw new ExchangeRejected('Could not validate JWT token, JWKS keys missing.', sub);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(jwks)));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new ExchangeRejected('token expired', sub);
    throw new ExchangeRejected(`invalid token: ${errorMessage(error)}`, sub);
  }
  if (!audienceIntersects(payload.aud, issuer.aud)) throw new ExchangeRejected('audience not valid', sub);
  return payload;
}

/** The issuer's JWKS, or undefined when missing, unfetchable or empty. */
function currentJwks(issuer: StoredJwtIssuer): JSONWebKeySet | undefined {
  let jwks: JSONWebKeySet | undefined;
  try {
    jwks = typeof issuer.jwks === 'function' ? issuer.jwks() : issuer.jwks;
  } catch {
    return undefined;
  }
  return jwks !== undefined && Array.isArray(jwks.keys) && jwks.keys.length > 0 ? jwks : undefined;
}

function audienceIntersects(tokenAudience: string | string[] | undefined, accepted: readonly string[]): boolean {
  const audiences = tokenAudience === undefined ? [] : [tokenAudience].flat();
  return audiences.some((audience) => accepted.includes(audience));
}

function requireInvokePermission(policyNames: readonly string[], target: FunctionAudience, iam: IamStore, sub: string): void {
  const policies = policyNames.map((name) => iam.policy(name)).filter((policy): policy is PolicySpec => policy !== undefined);
  if (!isAllowed(policies, 'Function:Invoke', target)) {
    throw new ExchangeRejected(`policy does not allow Function:Invoke on ${target.namespace}:${target.name} for subject: ${sub}`, sub);
  }
}

function accessTokenClaims(subjectClaims: JWTPayload, sub: string, policy: string[]): AccessTokenClaims {
  const claims: AccessTokenClaims = { sub: `fed:${sub}`, 'fed:iss': subjectClaims.iss, policy };
  const kubernetes = subjectClaims['kubernetes.io'];
  if (kubernetes !== undefined) claims['kubernetes.io'] = kubernetes;
  return claims;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
