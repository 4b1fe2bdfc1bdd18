/**
 * RFC 8693 token exchange at the gateway: the projected ServiceAccount token (an id_token) is
 * exchanged for a short-lived OpenFaaS access token carrying the Role's policies.
 * The endpoint's answers carry credentials by design, so no error message ever quotes one: a
 * refusal is reported by its OAuth error_description, anything else by its shape.
 */
import type { Dispatcher } from 'undici';
import { exchangeRefusal } from '../diagnosis.ts';
import { ConnectorError, TokenExchangeError } from '../errors.ts';
import { send, target } from '../gateway/http.ts';
import { scrubSecrets } from '../redact.ts';
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

/** The body as a JSON object, or undefined. */
function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What an answer looks like, without a word of its content: `a JSON object with keys [a, b]`, `312 bytes of text/html`. */
function shapeOf(body: Buffer, contentType: string | undefined): string {
  const object = jsonObject(body);
  if (object !== undefined) return `a JSON object with keys [${Object.keys(object).slice(0, 8).join(', ')}]`;
  return `${body.length} bytes${contentType === undefined ? '' : ` of ${contentType.split(';')[0] ?? contentType}`}`;
}

function parseOAuthError(body: Buffer): OAuthErrorBody {
  const { error, error_description } = jsonObject(body) ?? {};
  return {
    ...(typeof error === 'string' ? { error: scrubSecrets(error.slice(0, 100)) } : {}),
    ...(typeof error_description === 'string' ? { error_description: scrubSecrets(error_description.slice(0, 500)) } : {}),
  };
}

function refused(status: number, body: Buffer, contentType: string | undefined, req: ExchangeRequest): TokenExchangeError {
  const oauth = parseOAuthError(body);
  const description = oauth.error_description ?? `HTTP ${status} without an OAuth error (${shapeOf(body, contentType)})`;
  const label = oauth.error === undefined ? `${status}` : `${status} ${oauth.error}`;
  return new TokenExchangeError(`token exchange refused (${label}): ${description}`, {
    status,
    ...(oauth.error === undefined ? {} : { oauthError: oauth.error }),
    description,
    ...(req.subject.sub === undefined ? {} : { subject: req.subject.sub }),
    diagnosis: exchangeRefusal(description, { claims: req.subject, systemIssuer: req.systemIssuer }, status, oauth.error),
  });
}

function parseIssued(body: Buffer, contentType: string | undefined, req: ExchangeRequest): IssuedToken {
  const record = jsonObject(body) ?? {};
  const accessToken = record.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new TokenExchangeError(`token exchange answered 200 without an access_token: ${shapeOf(body, contentType)}`, {
      code: 'E_TOKEN_RESPONSE',
      diagnosis: {
        cause: `token_url (${req.tokenUrl}) answered like something other than the OpenFaaS gateway's token endpoint`,
        fix: "point token_url at the OpenFaaS gateway's /oauth/token (or leave it unset: it defaults to gateway_url + /oauth/token)",
      },
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
    const inner = err instanceof ConnectorError ? err : undefined;
    throw new TokenExchangeError(`token exchange at ${url.origin}${url.pathname} failed: ${inner?.message ?? String(err)}`, {
      cause: err,
      diagnosis: inner?.diagnosis,
      ...(req.subject.sub === undefined ? {} : { subject: req.subject.sub }),
    });
  }
  const contentType = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined;
  if (res.status !== 200) throw refused(res.status, res.body, contentType, req);
  return parseIssued(res.body, contentType, req);
}
