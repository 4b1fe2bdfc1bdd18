/** A tiny HTTP client for the emulator tests. */
import { connect } from 'node:net';
import type { GatewayEmulator } from '../support/gateway.ts';
import { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ID_TOKEN } from '../support/gateway.ts';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

export interface TokenReply {
  status: number;
  body: Record<string, unknown>;
}

export async function call(gateway: GatewayEmulator, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${gateway.url}${path}`, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export function callWithToken(gateway: GatewayEmulator, path: string, token: string): Promise<Reply> {
  return call(gateway, path, { headers: { authorization: `Bearer ${token}` } });
}

/** The standard exchange form for `subjectToken`, plus `extra` fields. */
export function exchangeForm(subjectToken: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: TOKEN_TYPE_ID_TOKEN,
    ...extra,
  };
}

/** POSTs `fields` as a form to /oauth/token. */
export async function postToken(gateway: GatewayEmulator, fields: Record<string, string>): Promise<TokenReply> {
  const reply = await call(gateway, '/oauth/token', { method: 'POST', body: new URLSearchParams(fields) });
  return { status: reply.status, body: JSON.parse(reply.text) as Record<string, unknown> };
}

/** Exchanges `subjectToken`, expecting success; returns the access token. */
export async function exchange(gateway: GatewayEmulator, subjectToken: string, extra: Record<string, string> = {}): Promise<string> {
  const reply = await postToken(gateway, exchangeForm(subjectToken, extra));
  const token = reply.body['access_token'];
  if (reply.status !== 200 || typeof token !== 'string') throw new Error(`exchange failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return token;
}

/** Sends raw bytes over a fresh connection (half-closing it); resolves with the raw response text. */
export function rawRequest(gateway: GatewayEmulator, head: string, body = ''): Promise<string> {
  const port = Number(new URL(gateway.url).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\n\r\n${body}`));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}
