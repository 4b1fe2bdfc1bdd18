/**
 * RFC 8693 token exchange at the gateway: the projected ServiceAccount token (an id_token) is
 * exchanged for a short-lived OpenFaaS access token carrying the Role's policies.
 */
import type { Dispatcher } from 'undici';
import { TokenExchangeError, type ConnectorError } from '../errors.ts';
import { excerpt, send, target } from '../gateway/http.ts';
import { decodeClaims, type TokenClaims } from './token-file.ts';

export const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

export interface ExchangeRequest {
  readonly tokenUrl: string;
  readonly subjectToken: string;
  /** Claims of the subject token, for error messages (never the token). */
  readonly subject: TokenClaims;
  readonly systemIssuer: string;
  readonly timeoutMs: number;
  readonly audience?: string;
  readonly scope?: string;
}

export interface IssuedToken {
  readonly accessToken: string;
  /** Lifetime in ms as announced by expires_in, if any. */
  readonly expiresInMs: number | undefined;
  /** The access token's own `exp`, ms since the epoch, if it decodes. */
  readonly expMs: number | undefined;
  /** Policy names baked into the token (from its `policy` claim), for logs. */
  readonly policies: readonly string[];
}

interface OAuthErrorBody {
  error?: string;
  error_description?: string;
}

/** How to fix a refused exchange, from the OpenFaaS IAM troubleshooting guide. */
export function exchangeHint(description: string, subject: TokenClaims, systemIssuer: string): string {
  const sub = subject.sub ?? '<sub of the projected token>';
  const iss = subject.iss ?? '<iss of the projected token>';
  if (/no policies found/i.test(description)) {
    return `no IAM Role matches this connector: create a Role (iam.openfaas.com/v1) in the openfaas namespace with principal jwt:sub: ["${sub}"] and condition StringEqual jwt:iss: ["${iss}"], bound to a Policy allowing Function:List and Namespace:List (helm install with iam.enabled=true creates both); the connector retries by itself`;
  }
  if (/issuer not registered|unknown issuer|not trusted/i.test(description)) {
    return `the issuer ${iss} is not registered with OpenFaaS: check "kubectl get jwtissuer -n openfaas" and create a JwtIssuer for it`;
  }
  if (/audience/i.test(description)) {
    return `the projected token's audience ${JSON.stringify(subject.aud ?? [])} must include the system issuer ${systemIssuer}: set the projected volume's audience to system_issuer and list it in the JwtIssuer's aud`;
  }
  if (/Function:Invoke|invoke/i.test(description)) {
    return 'the Policy bound to this connector does not grant Function:Invoke on the function\'s namespace: add it (helm: jwtAuth=true adds it on iam.resource)';
  }
  if (/jwks/i.test(description)) {
    return 'the gateway could not validate the token (JWKS keys missing): restart the oidc-plugin ("kubectl rollout restart deploy/oidc-plugin -n openfaas") and check its logs';
  }
  if (/expired/i.test(description)) {
    return 'the projected token has expired: the kubelet should refresh it; check the projected volume and the node clock';
  }
  return 'see the IAM troubleshooting section of README.md';
}

function parseOAuthError(body: Buffer): OAuthErrorBody {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) {
      const { error, error_description } = parsed as Record<string, unknown>;
      return {
        ...(typeof error === 'string' ? { error } : {}),
        ...(typeof error_description === 'string' ? { error_description } : {}),
      };
    }
  } catch {
    // not JSON: fall back to the raw excerpt
  }
  return {};
}

function refused(status: number, body: Buffer, req: ExchangeRequest): TokenExchangeError {
  const oauth = parseOAuthError(body);
  const description = oauth.error_description ?? (excerpt(body) || `HTTP ${status}`);
  const label = oauth.error === undefined ? `${status}` : `${status} ${oauth.error}`;
  return new TokenExchangeError(`token exchange refused (${label}): ${description}`, {
    status,
    ...(oauth.error === undefined ? {} : { oauthError: oauth.error }),
    description,
    ...(req.subject.sub === undefined ? {} : { subject: req.subject.sub }),
    hint: exchangeHint(description, req.subject, req.systemIssuer),
  });
}

function parseIssued(body: Buffer, req: ExchangeRequest): IssuedToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const accessToken = record.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new TokenExchangeError(`token exchange answered 200 without an access_token: ${excerpt(body, 80)}`, {
      code: 'E_TOKEN_RESPONSE',
      hint: `check token_url (${req.tokenUrl}) points at the OpenFaaS gateway's /oauth/token`,
    });
  }
  const expiresIn = record.expires_in;
  const issued = decodeClaims(accessToken);
  return {
    accessToken,
    expiresInMs: typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn * 1000 : undefined,
    expMs: issued.expMs,
    policies: readPolicies(accessToken),
  };
}

function readPolicies(token: string): string[] {
  const payload = token.split('.')[1];
  if (payload === undefined) return [];
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { policy?: unknown };
    return Array.isArray(claims.policy) ? claims.policy.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

export async function exchangeToken(dispatcher: Dispatcher, req: ExchangeRequest): Promise<IssuedToken> {
  const form = new URLSearchParams({
    grant_type: GRANT_TYPE,
    subject_token: req.subjectToken,
    subject_token_type: ID_TOKEN_TYPE,
  });
  if (req.audience !== undefined) form.set('audience', req.audience);
  if (req.scope !== undefined) form.set('scope', req.scope);
  const url = new URL(req.tokenUrl);
  let res;
  try {
    res = await send(dispatcher, {
      ...target(url),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      timeoutMs: req.timeoutMs,
      maxBodyBytes: 1024 * 1024,
    });
  } catch (err) {
    const e = err as ConnectorError;
    throw new TokenExchangeError(`token exchange at ${url.origin}${url.pathname} failed: ${e.message}`, {
      cause: err,
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      ...(req.subject.sub === undefined ? {} : { subject: req.subject.sub }),
    });
  }
  if (res.status !== 200) throw refused(res.status, res.body, req);
  return parseIssued(res.body, req);
}
