/**
 * OpenFaaS REST calls the connector makes: list namespaces, list functions, invoke.
 * Authorization is added to REST calls only (functions never see the connector's credentials);
 * a 401 drops the credentials and the call is retried once with fresh ones.
 */
import type { Dispatcher } from 'undici';
import type { Credentials } from '../auth/credentials.ts';
import { gatewayStatus, type AuthMode } from '../diagnosis.ts';
import { GatewayError } from '../errors.ts';
import { isoMemo } from '../iso-time.ts';
import { USER_AGENT } from '../version.ts';
import { excerpt, send, sendTo, SETTLE, target, type HttpRequest, type HttpResponse, type Receiver } from './http.ts';
import { parseFunctionList, parseNamespaceList, type GatewayFunction } from './types.ts';

export interface GatewayClientOptions {
  readonly gatewayUrl: string;
  readonly credentials: Credentials;
  /** Dispatcher for REST calls (namespaces, functions). */
  readonly rest: Dispatcher;
  /** Dispatcher for invocations, sized to max_inflight. */
  readonly invoke: Dispatcher;
  readonly contentType: string;
}

export interface InvokeRequest {
  readonly name: string;
  readonly namespace: string;
  readonly async: boolean;
  /** Value of the function's topic annotation, sent as X-Topic. */
  readonly topic: string;
  /** Nominal fire time, ms since the epoch. */
  readonly scheduledAt: number;
  /** 1 for the first attempt, sent as X-Cron-Attempt. */
  readonly attempt: number;
  /** The same for every attempt of one slot, sent as X-Cron-Execution-Id. */
  readonly executionId: string;
  /** A per-function token (jwt_auth), never the connector's own credentials. */
  readonly authorization?: string | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface InvokeResult {
  readonly status: number;
  readonly bytes: number;
  readonly callId: string | undefined;
  readonly headers: HttpResponse['headers'];
}

/**
 * Where an invocation's outcome goes: `answered` (any status) or `failed` (a GatewayError, or
 * whatever invokeTo() could not send), once, with the context given to invokeTo(), never from
 * inside invokeTo() itself.
 */
export interface InvokeReceiver<C> {
  answered(res: InvokeResult, context: C): void;
  failed(err: unknown, context: C): void;
}

/** The receiver and context of one invocation, as the HTTP layer's context. */
interface Invocation {
  readonly receiver: InvokeReceiver<unknown>;
  readonly context: unknown;
}

const INVOKED: Receiver<Invocation> = {
  answered: (res, inv) => inv.receiver.answered(invokeResult(res), inv.context),
  failed: (err, inv) => inv.receiver.failed(err, inv.context),
};

/** A REST listing that failed with a status that means "not yours (anymore)". */
export function isGone(err: unknown): err is GatewayError & { readonly status: 403 | 404 } {
  return err instanceof GatewayError && (err.status === 403 || err.status === 404);
}

const scheduledIso = isoMemo();
const MAX_LIST_BYTES = 64 * 1024 * 1024;
const PATH_MEMO_LIMIT = 100_000;
/** Below the one-second lead of a warm-up, so a slow /healthz never holds a slot's invocations back. */
const WARM_TIMEOUT_MS = 800;

function invokeResult(res: HttpResponse): InvokeResult {
  const callId = res.headers['x-call-id'];
  return { status: res.status, bytes: res.size, callId: typeof callId === 'string' ? callId : undefined, headers: res.headers };
}

export function invocationPath(name: string, namespace: string, async: boolean): string {
  const prefix = async ? '/async-function/' : '/function/';
  return `${prefix}${encodeURIComponent(name)}.${encodeURIComponent(namespace)}`;
}

export class GatewayClient {
  private readonly opts: GatewayClientOptions;
  private readonly base: URL;
  /** The gateway's origin and path prefix, so an invocation builds no URL object. */
  private readonly origin: string;
  private readonly prefix: string;
  /** Invocation paths by namespace, then name (one map for /function/, one for /async-function/): encoded once per function. */
  private readonly paths = new Map<string, Map<string, string>>();
  private readonly asyncPaths = new Map<string, Map<string, string>>();
  private pathCount = 0;

  constructor(opts: GatewayClientOptions) {
    this.opts = opts;
    this.base = new URL(`${opts.gatewayUrl}/`);
    this.origin = this.base.origin;
    this.prefix = this.base.pathname.replace(/\/$/, '');
  }

  async listNamespaces(timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
    const res = await this.get('system/namespaces', undefined, timeoutMs, signal);
    return parseNamespaceList(res.body, '/system/namespaces');
  }

  async listFunctions(namespace: string, timeoutMs: number, signal?: AbortSignal): Promise<GatewayFunction[]> {
    const listing = await this.fetchFunctionList(namespace, timeoutMs, signal);
    return parseFunctionList(listing.body, namespace, listing.path);
  }

  /** A namespace's function list as the gateway sent it, to parse with parseFunctionList. */
  async fetchFunctionList(namespace: string, timeoutMs: number, signal?: AbortSignal): Promise<{ readonly body: Buffer; readonly path: string }> {
    const path = `system/functions?namespace=${encodeURIComponent(namespace)}`;
    const res = await this.get(path, namespace, timeoutMs, signal);
    return { body: res.body, path: `/${path}` };
  }

  /** invokeTo() as a promise: resolves with the answer (any status), rejects with what failed. */
  invoke(req: InvokeRequest): Promise<InvokeResult> {
    return new Promise<InvokeResult>((resolve, reject) => this.invokeTo(req, SETTLE, { resolve, reject }));
  }

  /**
   * Sends one invocation; its outcome goes to `receiver` (the invoker's hot path: no promise per
   * request). Input it cannot encode (a nominal time that is not a date, a name with a lone
   * surrogate) fails on the receiver too, one microtask later.
   */
  invokeTo<C>(req: InvokeRequest, receiver: InvokeReceiver<C>, context: C): void {
    try {
      this.sendInvocation(req, { receiver, context });
    } catch (err) {
      queueMicrotask(() => receiver.failed(err, context));
    }
  }

  private sendInvocation(req: InvokeRequest, invocation: Invocation): void {
    let path = (req.async ? this.asyncPaths : this.paths).get(req.namespace)?.get(req.name);
    if (path === undefined) path = this.remember(req);
    const headers: Record<string, string> = {
      'content-type': this.opts.contentType,
      'user-agent': USER_AGENT,
      'x-connector': 'cron-connector',
      'x-topic': req.topic,
      'x-cron-scheduled-time': scheduledIso(req.scheduledAt),
      'x-cron-attempt': String(req.attempt),
      'x-cron-execution-id': req.executionId,
    };
    if (req.authorization !== undefined) headers.authorization = req.authorization;
    const http: HttpRequest = {
      origin: this.origin,
      path,
      method: 'POST',
      headers,
      body: '',
      timeoutMs: req.timeoutMs,
      // an asynchronous call only waits for the gateway to queue it: its timeout is the gateway's
      timeoutSetting: req.async ? undefined : 'upstream_timeout',
      maxBodyBytes: Number.MAX_SAFE_INTEGER,
      keepBody: false,
      signal: req.signal,
    };
    sendTo(this.opts.invoke, http, INVOKED, invocation);
  }

  private remember(req: InvokeRequest): string {
    const path = `${this.prefix}${invocationPath(req.name, req.namespace, req.async)}`;
    // bounded: functions come and go; past the bound the memo starts again
    if (this.pathCount >= PATH_MEMO_LIMIT) {
      this.paths.clear();
      this.asyncPaths.clear();
      this.pathCount = 0;
    }
    const byNamespace = req.async ? this.asyncPaths : this.paths;
    let names = byNamespace.get(req.namespace);
    if (names === undefined) {
      names = new Map();
      byNamespace.set(req.namespace, names);
    }
    names.set(req.name, path);
    this.pathCount++;
    return path;
  }

  /**
   * Opens (or reuses) an invocation connection ahead of a slot with the gateway's health check,
   * which needs no credentials and runs no function.
   */
  async warm(signal?: AbortSignal): Promise<void> {
    await send(this.opts.invoke, {
      origin: this.origin,
      path: `${this.prefix}/healthz`,
      method: 'GET',
      headers: { 'user-agent': USER_AGENT },
      timeoutMs: WARM_TIMEOUT_MS,
      maxBodyBytes: Number.MAX_SAFE_INTEGER,
      keepBody: false,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  private async get(path: string, namespace: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<HttpResponse> {
    const url = new URL(path, this.base);
    let auth = await this.opts.credentials.authorization();
    let res = await this.fetch(url, auth, timeoutMs, signal);
    if (res.status === 401 && auth !== undefined) {
      this.opts.credentials.invalidate(auth);
      auth = await this.opts.credentials.authorization();
      res = await this.fetch(url, auth, timeoutMs, signal);
    }
    if (res.status < 200 || res.status > 299) throw statusError(url, res, this.opts.credentials.mode, namespace);
    return res;
  }

  private fetch(url: URL, auth: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (auth !== undefined) headers.authorization = auth;
    return send(this.opts.rest, {
      ...target(url),
      method: 'GET',
      headers,
      timeoutMs,
      timeoutSetting: 'rebuild_timeout',
      maxBodyBytes: MAX_LIST_BYTES,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}

function statusError(url: URL, res: HttpResponse, auth: AuthMode, namespace: string | undefined): GatewayError {
  const body = excerpt(res.body);
  const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
  return new GatewayError('E_GATEWAY_HTTP', `GET ${url.pathname}${url.search} answered ${res.status}${body === '' ? '' : `: ${body}`}`, {
    path: url.pathname,
    status: res.status,
    diagnosis: gatewayStatus(res.status, { auth, ...(namespace === undefined ? {} : { namespace }), ...(location === undefined ? {} : { location }) }),
  });
}
