/**
 * The one place that talks HTTP (undici). Callers get a status, headers and a bounded body, or a
 * GatewayError naming what went wrong; response bodies are always consumed so keep-alive
 * connections are reused.
 */
import type { Dispatcher } from 'undici';
import { GatewayError, describeError } from '../errors.ts';

export interface HttpRequest {
  /** e.g. http://gateway.openfaas:8080 */
  readonly origin: string;
  /** Path and query, e.g. /system/functions?namespace=dev */
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Largest body kept in memory; larger answers fail with E_GATEWAY_RESPONSE. */
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal;
  /** false: read the body to its end but keep only its size (body is then empty). Default true. */
  readonly keepBody?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** Bytes in the answer's body, kept or not. */
  readonly size: number;
}

/** Builds the request's origin and path from a URL (REST calls; invocations pass strings). */
export function target(url: URL): { readonly origin: string; readonly path: string } {
  return { origin: url.origin, path: `${url.pathname}${url.search}` };
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

interface BodyStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  destroy(err?: Error): unknown;
}

/** Reads a body to its end; keeps it only when asked (invocations only need its size). */
function readBody(body: BodyStream, max: number, keep: boolean, path: string): Promise<{ size: number; chunks: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk) => {
      size += chunk.length;
      if (size > max) {
        const err = new GatewayError('E_GATEWAY_RESPONSE', `the answer from ${path} is larger than ${max} bytes`, {
          path,
          hint: 'the gateway answered with an unexpectedly large body; check gateway_url points at the OpenFaaS gateway',
        });
        body.destroy(err);
        reject(err);
        return;
      }
      if (keep) chunks.push(chunk);
    });
    body.once('end', () => resolve({ size, chunks }));
    body.once('error', reject);
  });
}

const EMPTY = Buffer.alloc(0);

function pathnameOf(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/**
 * One request. The deadline is one timer and one AbortController per request (cleared when the
 * answer is read): AbortSignal.timeout() + AbortSignal.any() cost several times more and keep
 * every timeout signal alive until it fires.
 */
export async function send(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = Math.max(1, Math.ceil(req.timeoutMs));
  const { path } = req;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const outer = req.signal;
  const onAbort = (): void => controller.abort(outer?.reason);
  if (outer !== undefined) {
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
  }
  try {
    const res = await dispatcher.request({
      origin: req.origin,
      path,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const keep = req.keepBody ?? true;
    const { size, chunks } = await readBody(res.body, req.maxBodyBytes, keep, pathnameOf(path));
    const body = !keep ? EMPTY : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
    return { status: res.statusCode, headers: res.headers, body, size };
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const pathname = pathnameOf(path);
    if (hasCode(err, 'UND_ERR_INVALID_ARG')) {
      throw new GatewayError('E_GATEWAY_REQUEST', `${req.method} ${pathname} could not be sent: ${describeError(err)}`, {
        path: pathname,
        cause: err,
        hint: 'the request itself is invalid (e.g. a header value); this is a bug or a bad annotation, not a network problem',
      });
    }
    if (timedOut || isTimeout(err)) {
      throw new GatewayError('E_GATEWAY_TIMEOUT', `${req.method} ${pathname} timed out after ${timeoutMs} ms`, {
        path: pathname,
        cause: err,
        hint: `the gateway at ${req.origin} did not answer in time`,
      });
    }
    throw new GatewayError('E_GATEWAY_NETWORK', `${req.method} ${pathname} failed: ${describeError(err)}`, {
      path: pathname,
      cause: err,
      hint: networkHint(err, new URL(req.origin)),
    });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

/** A short, printable excerpt of a body for error messages (never used for secrets). */
export function excerpt(body: Buffer, max = 200): string {
  const text = body.subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim();
  return body.length > max ? `${text}…` : text;
}
