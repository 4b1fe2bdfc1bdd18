/** `POST /oauth/token`: the RFC 8693 token exchange endpoint. */
import { preciseNow } from '../wait.ts';
import type { GatewayContext, GatewayRequest } from './context.ts';
import { sendJson } from './http-io.ts';
import { TOKEN_TYPE_ID_TOKEN, exchangeToken } from './token-exchange.ts';
import type { ExchangeOutcome } from './token-exchange.ts';

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export async function handleTokenExchange(context: GatewayContext, { req, res, url, body }: GatewayRequest): Promise<void> {
  if (req.method !== 'POST') {
    sendJson(res, 405, invalidRequest('method not allowed, use POST'), { allow: 'POST' });
    return;
  }
  const fields = exchangeFields(url, body, req.headers['content-type']);
  const outcome: ExchangeOutcome =
    fields === undefined
      ? { ok: false, description: `Content-Type must be ${FORM_CONTENT_TYPE}` }
      : await exchangeToken(fields, { iam: context.iam, systemIssuer: context.auth.systemIssuer, lifetimeSeconds: context.lifetimeSeconds });
  record(context, outcome);
  if (!outcome.ok) {
    sendJson(res, 400, invalidRequest(outcome.description));
    return;
  }
  sendJson(res, 200, {
    access_token: outcome.accessToken,
    issued_token_type: TOKEN_TYPE_ID_TOKEN,
    token_type: 'Bearer',
    expires_in: outcome.expiresIn,
  });
}

/** Query-string fields overlaid with the form body's (the walkthrough's curl sends them in the query). */
function exchangeFields(url: URL, body: Buffer, contentType: string | undefined): URLSearchParams | undefined {
  const fields = new URLSearchParams(url.searchParams);
  if (body.length === 0) return fields;
  if (mediaType(contentType) !== FORM_CONTENT_TYPE) return undefined;
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) fields.set(key, value);
  return fields;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function invalidRequest(description: string): { error: string; error_description: string } {
  return { error: 'invalid_request', error_description: description };
}

function record(context: GatewayContext, outcome: ExchangeOutcome): void {
  const at = preciseNow();
  if (outcome.ok) {
    context.records.exchanges.push({ at, ok: true, sub: outcome.sub, accessToken: outcome.accessToken });
    context.records.issuedTokens.push(outcome.accessToken);
    return;
  }
  context.records.exchanges.push({ at, ok: false, ...(outcome.sub === undefined ? {} : { sub: outcome.sub }), error: outcome.description });
}
