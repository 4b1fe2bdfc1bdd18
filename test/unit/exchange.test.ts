import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { exchangeToken } from '../../src/auth/exchange.ts';
import { TokenExchangeError } from '../../src/errors.ts';

const SECRET_JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJmZWQ6eCJ9.c2VjcmV0LXNpZ25hdHVyZQ';
const servers: Server[] = [];
const agent = new Agent();
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A token endpoint that answers `status` with `body` (and its content type). */
async function endpoint(status: number, body: string, contentType = 'application/json'): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': contentType }).end(body));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
}

async function failure(tokenUrl: string): Promise<TokenExchangeError> {
  try {
    await exchangeToken(agent, { tokenUrl, subjectToken: 'projected', subject: { sub: 'system:serviceaccount:a:b' }, systemIssuer: 'https://gw', timeoutMs: 2000 });
  } catch (err) {
    expect(err).toBeInstanceOf(TokenExchangeError);
    return err as TokenExchangeError;
  }
  throw new Error('the exchange succeeded');
}

/** Everything an error could put in a log line or on the doctor's screen. */
const printable = (e: TokenExchangeError): string => JSON.stringify([e.message, e.description, e.hint, e.diagnosis, e.oauthError]);

describe('token exchange answers that are not a token', () => {
  it('should describe a 200 without access_token by its shape, never by its content', async () => {
    const e = await failure(await endpoint(200, JSON.stringify({ token: SECRET_JWT, expires_in: 3600 })));
    expect(e.code).toBe('E_TOKEN_RESPONSE');
    expect(e.message).toBe('token exchange answered 200 without an access_token: a JSON object with keys [token, expires_in]');
    expect(printable(e)).not.toContain(SECRET_JWT);
    expect(printable(e)).not.toContain('c2VjcmV0');
  });

  it('should describe a refusal without an OAuth error by its status and shape', async () => {
    const e = await failure(await endpoint(502, `<html>upstream said: Authorization: Bearer ${SECRET_JWT}</html>`, 'text/html'));
    expect(e.message).toMatch(/^token exchange refused \(502\): HTTP 502 without an OAuth error \(\d+ bytes of text\/html\)$/);
    expect(printable(e)).not.toContain(SECRET_JWT);
  });

  it('should keep the OAuth error_description, with anything token-shaped cut out of it', async () => {
    const e = await failure(await endpoint(400, JSON.stringify({ error: 'invalid_request', error_description: `bad subject_token ${SECRET_JWT}` })));
    expect(e.message).toBe('token exchange refused (400 invalid_request): bad subject_token [REDACTED]');
    expect(printable(e)).not.toContain(SECRET_JWT);
  });
});
