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

/**
 * The requests in flight under one caller signal, linked through the requests themselves. A
 * signal shared by every invocation (the invoker's shutdown signal) gets one 'abort' listener,
 * not one per request (adding and removing a DOM event listener costs more than the rest of a
 * request's bookkeeping), and a request joins and leaves in O(1) without allocating.
 */
class Watchers {
  head: Exchange | undefined;

  constructor(signal: AbortSignal) {
    signal.addEventListener('abort', () => this.abortAll(), { once: true });
  }

  add(e: Exchange): void {
    e.watchers = this;
    e.watchPrev = undefined;
    e.watchNext = this.head;
    if (this.head !== undefined) this.head.watchPrev = e;
    this.head = e;
  }

  remove(e: Exchange): void {
    if (e.watchers !== this) return;
    if (e.watchPrev === undefined) this.head = e.watchNext;
    else e.watchPrev.watchNext = e.watchNext;
    if (e.watchNext !== undefined) e.watchNext.watchPrev = e.watchPrev;
    e.watchers = undefined;
    e.watchPrev = undefined;
    e.watchNext = undefined;
  }

  private abortAll(): void {
    for (let e = this.head; e !== undefined; e = this.head) {
      this.remove(e);
      e.abortByCaller();
    }
  }
}

const watchers = new WeakMap<AbortSignal, Watchers>();
/**
 * The signal of the last request and its list, looked up without the WeakMap: invocations all
 * share one. Holds one signal at most (a WeakRef's deref() would cost more than the lookup saved).
 */
let lastSignal: AbortSignal | undefined;
let lastWatchers: Watchers | undefined;

function watchersOf(signal: AbortSignal): Watchers {
  if (signal === lastSignal && lastWatchers !== undefined) return lastWatchers;
  let list = watchers.get(signal);
  if (list === undefined) {
    list = new Watchers(signal);
    watchers.set(signal, list);
  }
  lastSignal = signal;
  lastWatchers = list;
  return list;
}

/**
 * The deadlines of the requests in flight that share one timeout (every invocation has the
 * connector's upstream_timeout), linked through the requests in the order they started, so the
 * head is the soonest: one timer per list, armed for its head, instead of a Node timer per
 * request (an object, an argument array, and a list insertion and removal each; a burst keeps
 * max_inflight requests in flight and starts thousands). A timer may fire before its head is
 * due (the head answered, or libuv's loop time lags): it re-arms for the head then, never early.
 */
class Deadlines {
  private head: Exchange | undefined;
  private tail: Exchange | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  add(e: Exchange): void {
    const now = performance.now();
    e.deadline = now + this.timeoutMs;
    e.earlier = this.tail;
    e.later = undefined;
    if (this.tail === undefined) this.head = e;
    else this.tail.later = e;
    this.tail = e;
    // for the head, which is this request unless one added from expire() is the tail
    if (this.timer === undefined) this.arm(now);
  }

  remove(e: Exchange): void {
    if (e.earlier === undefined) {
      if (this.head !== e) return; // not in this list (already removed)
      this.head = e.later;
    } else e.earlier.later = e.later;
    if (e.later === undefined) this.tail = e.earlier;
    else e.later.earlier = e.earlier;
    e.earlier = undefined;
    e.later = undefined;
    if (this.head === undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      if (deadlines.get(this.timeoutMs) === this) deadlines.delete(this.timeoutMs);
    }
  }

  /** The timer fired: expires every request that is due, and re-arms for the next one. */
  expire(): void {
    this.timer = undefined;
    const now = performance.now();
    try {
      for (let e = this.head; e !== undefined && e.deadline <= now; e = this.head) {
        this.remove(e);
        e.expire();
      }
    } finally {
      // whatever an expiry did, the requests still in the list keep a timer
      if (this.timer === undefined) this.arm(now);
    }
  }

  private arm(now: number): void {
    if (this.head !== undefined) this.timer = setTimeout(onDeadlines, Math.max(1, Math.ceil(this.head.deadline - now)), this);
  }
}

function onDeadlines(list: Deadlines): void {
  list.expire();
}

/** Lists of deadlines by timeout, ms; a list leaves the map when it empties. */
const deadlines = new Map<number, Deadlines>();

function deadlinesFor(timeoutMs: number): Deadlines {
  let list = deadlines.get(timeoutMs);
  if (list === undefined) {
    list = new Deadlines(timeoutMs);
    deadlines.set(timeoutMs, list);
  }
  return list;
}

/**
 * One request and its answer, as undici's dispatch handler: its state in fields and its callbacks
 * on the prototype, so a request allocates this object and its promise, no timer and no closures
 * (a burst sends thousands at once).
 */
class Exchange implements Dispatcher.DispatchHandler {
  /** performance.now() when the request times out, and its neighbours in its Deadlines list. */
  deadline = 0;
  earlier: Exchange | undefined;
  later: Exchange | undefined;
  /** The list of its caller's signal, and its neighbours there. */
  watchers: Watchers | undefined;
  watchPrev: Exchange | undefined;
  watchNext: Exchange | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private pendingAbort: Error | undefined;
  private settled = false;
  private timedOut = false;
  private status = 0;
  private headers: HttpResponse['headers'] = {};
  private size = 0;
  private chunks: Buffer[] | undefined;
  private readonly deadlines: Deadlines;
  private readonly req: HttpRequest;
  private readonly timeoutMs: number;
  private readonly keep: boolean;
  private readonly receiver: Receiver<unknown>;
  private readonly context: unknown;
  /** True while sendTo() runs: an outcome known then reaches the receiver one microtask later. */
  dispatching = true;

  constructor(req: HttpRequest, timeoutMs: number, receiver: Receiver<unknown>, context: unknown) {
    this.req = req;
    this.timeoutMs = timeoutMs;
    this.keep = req.keepBody ?? true;
    this.receiver = receiver;
    this.context = context;
    this.deadlines = deadlinesFor(timeoutMs);
    this.deadlines.add(this);
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
    let error: GatewayError;
    try {
      error = failure(err, this.req, this.timeoutMs, this.timedOut);
    } catch {
      // describing the failure failed (an origin that does not parse): still one outcome
      const pathname = pathnameOf(this.req.path);
      error = new GatewayError('E_GATEWAY_NETWORK', `${this.req.method} ${pathname} failed: ${describeError(err)}`, { path: pathname, cause: err });
    }
    this.cleanup();
    this.settle(error);
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
    this.settle({ status: this.status, headers: this.headers, body, size: this.size });
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

  private settle(outcome: HttpResponse | GatewayError): void {
    if (this.dispatching) queueMicrotask(() => this.deliver(outcome));
    else this.deliver(outcome);
  }

  /**
   * Tells the receiver, usually from inside undici's handling of the answer. A receiver that
   * throws (a bug) must not break that connection: its error becomes an unhandled rejection, as
   * a throw in a promise reaction was before receivers (the daemon logs those and carries on).
   */
  private deliver(outcome: HttpResponse | GatewayError): void {
    try {
      if (outcome instanceof GatewayError) this.receiver.failed(outcome, this.context);
      else this.receiver.answered(outcome, this.context);
    } catch (err) {
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- left unhandled on purpose: the process's unhandledRejection handler reports it
      Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private cleanup(): void {
    this.settled = true;
    this.deadlines.remove(this);
    this.watchers?.remove(this);
  }
}

/**
 * Where a request's outcome goes: `answered` (any status) or `failed`, once, with the context
 * given to sendTo(). An object rather than a promise, so a request allocates no promise, no
 * closures and no microtask hops on its way back (a burst sends thousands).
 */
export interface Receiver<C> {
  answered(res: HttpResponse, context: C): void;
  failed(err: GatewayError, context: C): void;
}

/**
 * One request, through undici's dispatch handler API: no response stream, no AbortSignal plumbing
 * inside undici, no timer of its own (a list per timeout has one) and no listener of its own on
 * the caller's signal (one shared per signal). Its outcome goes to `receiver`, never from inside
 * sendTo() itself (a failure known at once comes one microtask later). On the invocation hot path
 * this is most of the per-request cost that is ours rather than the kernel's.
 */
export function sendTo<C>(dispatcher: Dispatcher, req: HttpRequest, receiver: Receiver<C>, context: C): void {
  const timeoutMs = Math.max(1, Math.ceil(req.timeoutMs));
  const exchange = new Exchange(req, timeoutMs, receiver, context);
  try {
    const outer = req.signal;
    if (outer !== undefined) {
      if (outer.aborted) {
        exchange.abortByCaller();
        return;
      }
      watchersOf(outer).add(exchange);
    }
    dispatcher.dispatch(
      { origin: req.origin, path: req.path, method: req.method, headers: req.headers, body: req.body ?? null, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
      exchange,
    );
  } catch (err) {
    exchange.fail(err);
  } finally {
    exchange.dispatching = false;
  }
}

/** A promise's settle functions, as the context of the receiver that settles it. */
export interface Settle<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** The receiver of the promise wrappers over a receiver API (send(), GatewayClient.invoke()). */
export const SETTLE = {
  answered<T>(res: T, p: Settle<T>): void {
    p.resolve(res);
  },
  failed(err: unknown, p: Settle<never>): void {
    p.reject(err);
  },
};

/** sendTo() as a promise: resolves with the answer (any status), rejects with a GatewayError. */
export function send(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => sendTo(dispatcher, req, SETTLE, { resolve, reject }));
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
