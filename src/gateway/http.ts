/**
 * The one place that talks HTTP (undici). Callers get a status, headers and a bounded body, or a
 * GatewayError naming what went wrong; response bodies are always consumed so keep-alive
 * connections are reused.
 */
import type { Dispatcher } from 'undici';
import { GatewayError, describeError } from '../errors.ts';

export interface HttpRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Largest body kept in memory; larger answers fail with E_GATEWAY_RESPONSE. */
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function networkHint(err: unknown, url: URL): string {
  const code = errorCode(err);
  if (code === 'CERT_HAS_EXPIRED') return `the TLS certificate of ${url.host} has expired (${code}); renew it on the gateway or its ingress`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the TLS certificate of ${url.host} is not valid for that host name (${code}); use the host name the certificate names in gateway_url`;
  }
  if (code !== undefined && TLS_CODES.has(code)) {
    return `the TLS certificate of ${url.host} is not trusted (${code}); if it is signed by a private CA, mount the CA bundle and set NODE_EXTRA_CA_CERTS to its path`;
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `nothing answers at ${url.origin} (${code}); check gateway_url and that the gateway is running`;
  }
  return `check that ${url.origin} is reachable from this Pod`;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR') && code !== 'ABORT_ERR') return code;
  }
  return undefined;
}

function hasCode(err: unknown, code: string): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === code) return true;
  }
  return false;
}

function isTimeout(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.name === 'TimeoutError' || (e as { code?: unknown }).code === 'UND_ERR_HEADERS_TIMEOUT') return true;
    if ((e as { code?: unknown }).code === 'UND_ERR_BODY_TIMEOUT') return true;
  }
  return false;
}

async function readBounded(body: AsyncIterable<Buffer>, max: number, url: URL): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      throw new GatewayError('E_GATEWAY_RESPONSE', `the answer from ${url.pathname} is larger than ${max} bytes`, {
        path: url.pathname,
        hint: 'the gateway answered with an unexpectedly large body; check gateway_url points at the OpenFaaS gateway',
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export async function send(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = Math.max(1, Math.ceil(req.timeoutMs));
  const signals = [AbortSignal.timeout(timeoutMs), ...(req.signal === undefined ? [] : [req.signal])];
  try {
    const res = await dispatcher.request({
      origin: req.url.origin,
      path: `${req.url.pathname}${req.url.search}`,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.any(signals),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = await readBounded(res.body, req.maxBodyBytes, req.url);
    return { status: res.statusCode, headers: res.headers, body };
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const path = req.url.pathname;
    if (hasCode(err, 'UND_ERR_INVALID_ARG')) {
      throw new GatewayError('E_GATEWAY_REQUEST', `${req.method} ${path} could not be sent: ${describeError(err)}`, {
        path,
        cause: err,
        hint: 'the request itself is invalid (e.g. a header value); this is a bug or a bad annotation, not a network problem',
      });
    }
    if (isTimeout(err)) {
      throw new GatewayError('E_GATEWAY_TIMEOUT', `${req.method} ${path} timed out after ${timeoutMs} ms`, {
        path,
        cause: err,
        hint: `the gateway at ${req.url.origin} did not answer in time`,
      });
    }
    throw new GatewayError('E_GATEWAY_NETWORK', `${req.method} ${path} failed: ${describeError(err)}`, {
      path,
      cause: err,
      hint: networkHint(err, req.url),
    });
  }
}

/** A short, printable excerpt of a body for error messages (never used for secrets). */
export function excerpt(body: Buffer, max = 200): string {
  const text = body.subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim();
  return body.length > max ? `${text}…` : text;
}
