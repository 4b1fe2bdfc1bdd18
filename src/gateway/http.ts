/**
 * The one place that talks HTTP (undici). Callers get a status, headers and a bounded body, or a
 * GatewayError naming what went wrong; response bodies are always consumed so keep-alive
 * connections are reused.
 */
import type { Dispatcher } from 'undici';
import { NOT_A_GATEWAY, networkFailure, systemCode, timeoutFailure } from '../diagnosis.ts';
import { formatDuration } from '../duration.ts';
import { GatewayError, describeError } from '../errors.ts';
import { scrubSecrets } from '../redact.ts';

export interface HttpRequest {
  /** e.g. http://gateway.openfaas:8080 */
  readonly origin: string;
  /** Path and query, e.g. /system/functions?namespace=dev */
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** The variable that sets timeoutMs (rebuild_timeout, upstream_timeout), named in a timeout's fix. */
  readonly timeoutSetting?: string | undefined;
  /** Largest body kept in memory; larger answers fail with E_GATEWAY_RESPONSE. */
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal | undefined;
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
  return new GatewayError('E_GATEWAY_RESPONSE', `the answer from ${path} is larger than ${max} bytes`, { path, diagnosis: NOT_A_GATEWAY });
}

/** Names what went wrong with a request, as a GatewayError with a hint. */
function failure(err: unknown, req: HttpRequest, timeoutMs: number, timedOut: boolean): GatewayError {
  if (err instanceof GatewayError) return err;
  const pathname = pathnameOf(req.path);
  if (hasCode(err, 'UND_ERR_INVALID_ARG')) {
    return new GatewayError('E_GATEWAY_REQUEST', `${req.method} ${pathname} could not be sent: ${describeError(err)}`, {
      path: pathname,
      cause: err,
      diagnosis: {
        cause: 'the request itself is invalid (e.g. a header value), not the network',
        fix: 'check the annotations of the function; if they are fine, report it as a bug',
      },
    });
  }
  const origin = new URL(req.origin);
  if (timedOut || isTimeout(err)) {
    return new GatewayError('E_GATEWAY_TIMEOUT', `${req.method} ${pathname} timed out after ${formatDuration(timeoutMs)}`, {
      path: pathname,
      cause: err,
      diagnosis: timeoutFailure(origin, timeoutMs, req.timeoutSetting),
    });
  }
  const detail = describeError(err);
  return new GatewayError('E_GATEWAY_NETWORK', `${req.method} ${pathname} failed: ${detail}`, {
    path: pathname,
    cause: err,
    diagnosis: networkFailure(systemCode(err), origin, detail),
  });
}

/** What a caller's signal aborts: the requests in flight under it. */
interface Abortable {
  abortByCaller(): void;
}

/**
 * Requests in flight per caller signal. A signal shared by every invocation (the invoker's
 * shutdown signal) gets one 'abort' listener, not one per request: adding and removing a DOM
 * event listener costs more than the rest of a request's bookkeeping.
 */
const watchers = new WeakMap<AbortSignal, Set<Abortable>>();

function watch(signal: AbortSignal, exchange: Abortable): void {
  let set = watchers.get(signal);
  if (set === undefined) {
    const fresh = new Set<Abortable>();
    set = fresh;
    watchers.set(signal, fresh);
    signal.addEventListener(
      'abort',
      () => {
        for (const e of [...fresh]) e.abortByCaller();
        fresh.clear();
      },
      { once: true },
    );
  }
  set.add(exchange);
}

/**
 * One request and its answer, as undici's dispatch handler: its state in fields and its callbacks
 * on the prototype, so a request allocates this object, its promise and one timer, and no
 * closures (a burst sends thousands at once).
 */
class Exchange implements Dispatcher.DispatchHandler, Abortable {
  private controller: Dispatcher.DispatchController | undefined;
  private pendingAbort: Error | undefined;
  private settled = false;
  private timedOut = false;
  private status = 0;
  private headers: HttpResponse['headers'] = {};
  private size = 0;
  private chunks: Buffer[] | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly req: HttpRequest;
  private readonly timeoutMs: number;
  private readonly keep: boolean;
  private readonly resolve: (res: HttpResponse) => void;
  private readonly reject: (err: GatewayError) => void;

  constructor(req: HttpRequest, timeoutMs: number, resolve: (res: HttpResponse) => void, reject: (err: GatewayError) => void) {
    this.req = req;
    this.timeoutMs = timeoutMs;
    this.keep = req.keepBody ?? true;
    this.resolve = resolve;
    this.reject = reject;
    this.timer = setTimeout(onDeadline, timeoutMs, this);
  }

  /** The deadline passed. */
  expire(): void {
    this.timedOut = true;
    this.abort(new DOMException(`timed out after ${formatDuration(this.timeoutMs)}`, 'TimeoutError'));
  }

  abortByCaller(): void {
    const reason: unknown = this.req.signal?.reason;
    this.abort(reason instanceof Error ? reason : new DOMException('the request was aborted', 'AbortError'));
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.cleanup();
    this.reject(failure(err, this.req, this.timeoutMs, this.timedOut));
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.pendingAbort !== undefined) c.abort(this.pendingAbort);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, responseHeaders: HttpResponse['headers']): void {
    this.status = statusCode;
    this.headers = responseHeaders;
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.req.maxBodyBytes) c.abort(tooLarge(pathnameOf(this.req.path), this.req.maxBodyBytes));
    else if (this.keep) (this.chunks ??= []).push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.cleanup();
    const chunks = this.chunks;
    const body = chunks === undefined ? EMPTY : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size);
    this.resolve({ status: this.status, headers: this.headers, body, size: this.size });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  private abort(reason: Error): void {
    if (this.controller !== undefined) this.controller.abort(reason);
    else {
      // not started yet (waiting for a connection): fail now, and abort it once it starts
      this.pendingAbort = reason;
      this.fail(reason);
    }
  }

  private cleanup(): void {
    this.settled = true;
    clearTimeout(this.timer);
    const signal = this.req.signal;
    if (signal !== undefined) watchers.get(signal)?.delete(this);
  }
}

function onDeadline(exchange: Exchange): void {
  exchange.expire();
}

/**
 * One request, through undici's dispatch handler API: no response stream, no AbortSignal plumbing
 * inside undici, one timer for the deadline (cleared with the answer) and no listener of its own
 * on the caller's signal (one shared per signal). On the invocation hot path this is most of the
 * per-request cost that is ours rather than the kernel's.
 */
export function send(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = Math.max(1, Math.ceil(req.timeoutMs));
  return new Promise<HttpResponse>((resolve, reject) => {
    const exchange = new Exchange(req, timeoutMs, resolve, reject);
    const outer = req.signal;
    if (outer !== undefined) {
      if (outer.aborted) {
        exchange.abortByCaller();
        return;
      }
      watch(outer, exchange);
    }
    try {
      dispatcher.dispatch(
        { origin: req.origin, path: req.path, method: req.method, headers: req.headers, body: req.body ?? null, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
        exchange,
      );
    } catch (err) {
      exchange.fail(err);
    }
  });
}

/**
 * A short, printable excerpt of an error body for messages, with anything token- or
 * credential-shaped removed (a proxy may echo the request's Authorization header). Never used for
 * an answer that carries credentials by design (the token endpoint's).
 */
export function excerpt(body: Buffer, max = 200): string {
  const text = scrubSecrets(body.subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim());
  return body.length > max ? `${text}…` : text;
}
