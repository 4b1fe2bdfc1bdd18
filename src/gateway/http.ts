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

const EMPTY = Buffer.alloc(0);

function pathnameOf(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

function tooLarge(path: string, max: number): GatewayError {
  return new GatewayError('E_GATEWAY_RESPONSE', `the answer from ${path} is larger than ${max} bytes`, {
    path,
    hint: 'the gateway answered with an unexpectedly large body; check gateway_url points at the OpenFaaS gateway',
  });
}

/** Names what went wrong with a request, as a GatewayError with a hint. */
function failure(err: unknown, req: HttpRequest, timeoutMs: number, timedOut: boolean): GatewayError {
  if (err instanceof GatewayError) return err;
  const pathname = pathnameOf(req.path);
  if (hasCode(err, 'UND_ERR_INVALID_ARG')) {
    return new GatewayError('E_GATEWAY_REQUEST', `${req.method} ${pathname} could not be sent: ${describeError(err)}`, {
      path: pathname,
      cause: err,
      hint: 'the request itself is invalid (e.g. a header value); this is a bug or a bad annotation, not a network problem',
    });
  }
  if (timedOut || isTimeout(err)) {
    return new GatewayError('E_GATEWAY_TIMEOUT', `${req.method} ${pathname} timed out after ${timeoutMs} ms`, {
      path: pathname,
      cause: err,
      hint: `the gateway at ${req.origin} did not answer in time`,
    });
  }
  return new GatewayError('E_GATEWAY_NETWORK', `${req.method} ${pathname} failed: ${describeError(err)}`, {
    path: pathname,
    cause: err,
    hint: networkHint(err, new URL(req.origin)),
  });
}

/**
 * One request, through undici's dispatch handler API: no response stream, no AbortSignal plumbing
 * inside undici, one timer for the deadline (cleared with the answer) and at most one listener on
 * the caller's signal. On the invocation hot path this is most of the per-request cost that is
 * ours rather than the kernel's.
 */
export function send(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = Math.max(1, Math.ceil(req.timeoutMs));
  const keep = req.keepBody ?? true;
  return new Promise<HttpResponse>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let pendingAbort: Error | undefined;
    let settled = false;
    let timedOut = false;
    let status = 0;
    let headers: HttpResponse['headers'] = {};
    let size = 0;
    const chunks: Buffer[] = [];
    const outer = req.signal;

    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      cleanup();
      reject(failure(err, req, timeoutMs, timedOut));
    };
    const abort = (reason: Error): void => {
      if (controller !== undefined) controller.abort(reason);
      else {
        // not started yet (waiting for a connection): fail now, and abort it once it starts
        pendingAbort = reason;
        fail(reason);
      }
    };
    function onAbort(): void {
      const reason: unknown = outer?.reason;
      abort(reason instanceof Error ? reason : new DOMException('the request was aborted', 'AbortError'));
    }
    const timer = setTimeout(() => {
      timedOut = true;
      abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    if (outer !== undefined) {
      if (outer.aborted) {
        onAbort();
        return;
      }
      outer.addEventListener('abort', onAbort, { once: true });
    }

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (pendingAbort !== undefined) c.abort(pendingAbort);
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(c, chunk) {
        size += chunk.length;
        if (size > req.maxBodyBytes) c.abort(tooLarge(pathnameOf(req.path), req.maxBodyBytes));
        else if (keep) chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled) return;
        cleanup();
        const body = !keep ? EMPTY : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
        resolve({ status, headers, body, size });
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    try {
      dispatcher.dispatch(
        { origin: req.origin, path: req.path, method: req.method, headers: req.headers, body: req.body ?? null, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
        handler,
      );
    } catch (err) {
      fail(err);
    }
  });
}

/** A short, printable excerpt of a body for error messages (never used for secrets). */
export function excerpt(body: Buffer, max = 200): string {
  const text = body.subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim();
  return body.length > max ? `${text}…` : text;
}
