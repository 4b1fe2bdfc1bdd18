/**
 * An OpenFaaS gateway emulator with IAM, on 127.0.0.1 over real HTTP, for running the real
 * connector against. All state (IAM objects, namespaces, functions, faults) can change at runtime;
 * every request, invocation and token exchange is recorded.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';
import type { AuthConfig, AuthMode, BasicCredentials } from './gateway/auth.ts';
import type { GatewayContext, GatewayRequest, Handler } from './gateway/context.ts';
import { actOutFault } from './gateway/fault-responder.ts';
import { FaultSwitch } from './gateway/faults.ts';
import type { Fault, FaultTarget, RouteGroup } from './gateway/faults.ts';
import { FunctionRegistry } from './gateway/function-registry.ts';
import type { FunctionBehavior, FunctionStatus } from './gateway/function-registry.ts';
import { HttpError, headerRecord, readBody, sendError, sendText } from './gateway/http-io.ts';
import { IamStore } from './gateway/iam-store.ts';
import type { StoredJwtIssuer } from './gateway/iam-store.ts';
import type { JwtIssuerSpec, PolicySpec, RoleSpec } from './gateway/iam-types.ts';
import { ASYNC_PREFIX, SYNC_PREFIX, handleInvoke } from './gateway/invoke-endpoints.ts';
import type { ExchangeRecord, Invocation, RecordedRequest } from './gateway/records.ts';
import { ScriptedLists, validateScriptedResponse } from './gateway/scripted-response.ts';
import type { ScriptedResponse } from './gateway/scripted-response.ts';
import { SystemIssuer } from './gateway/system-issuer.ts';
import { handleListFunctions, handleListNamespaces, handleUnknownSystemPath } from './gateway/system-endpoints.ts';
import { handleTokenExchange } from './gateway/token-endpoint.ts';
import { preciseNow, waitFor } from './wait.ts';

export type { AuthMode, BasicCredentials } from './gateway/auth.ts';
export type { Fault, FaultTarget, RouteGroup } from './gateway/faults.ts';
export { cronFunction, DEFAULT_FUNCTION_NAMESPACE } from './gateway/function-registry.ts';
export type { FunctionBehavior, FunctionResources, FunctionStatus } from './gateway/function-registry.ts';
export type { ClaimValues, JwksSource, JwtIssuerSpec, PolicySpec, PolicyStatement, RoleCondition, RoleSpec } from './gateway/iam-types.ts';
export type { ExchangeRecord, Invocation, RecordedRequest } from './gateway/records.ts';
export type { RedirectStatus, ScriptedEnd, ScriptedResponse } from './gateway/scripted-response.ts';
export { DEFAULT_ENDLESS_CHUNK } from './gateway/scripted-response.ts';
export { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ID_TOKEN } from './gateway/token-exchange.ts';

export interface GatewayOptions {
  /** Default `iam`. */
  auth?: AuthMode;
  /** Required for `basic`; with `iam` it is accepted as the super-user account. */
  basicAuth?: BasicCredentials;
  /** `iss`/`aud` of issued access tokens. Default: the emulator's own base URL. */
  systemIssuer?: string;
  /** Default 3600. */
  defaultTokenLifetimeSeconds?: number;
  /**
   * Serve HTTPS with this PEM key and certificate chain instead of HTTP: `url` (and the default
   * system issuer) become `https://127.0.0.1:<port>`. See `createTestPki()` in `tls.ts`.
   */
  tls?: { key: string; cert: string };
}

export interface AccessTokenRequest {
  /** Used as-is, e.g. `fed:system:serviceaccount:openfaas:cron-connector`. */
  sub: string;
  policy: string[];
  /** Default: the gateway's token lifetime. */
  lifetimeSeconds?: number;
  /** `iat` in Unix seconds. Default: now. Use a past time for an already-expired token. */
  issuedAt?: number;
  /** Default: the system issuer; `<namespace>:<name>` for a per-function token. */
  aud?: string;
}

interface Route {
  group: RouteGroup | undefined;
  handle: Handler;
}

export function startGateway(opts: GatewayOptions = {}): Promise<GatewayEmulator> {
  return GatewayEmulator.start(opts);
}

export class GatewayEmulator {
  /** e.g. `http://127.0.0.1:41234` (`https://` with the `tls` option). */
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  readonly invocations: Invocation[] = [];
  readonly exchanges: ExchangeRecord[] = [];
  /** Every access token issued, so tests can check logs never contain one. */
  readonly issuedTokens: string[] = [];

  readonly #server: HttpServer | HttpsServer;
  readonly #auth: AuthConfig;
  readonly #iam = new IamStore();
  readonly #registry = new FunctionRegistry();
  readonly #faults = new FaultSwitch();
  readonly #scripted = new ScriptedLists();
  readonly #closing = new AbortController();
  readonly #context: GatewayContext;
  readonly #defaultLifetimeSeconds: number;
  #lifetimeOverride: number | undefined;
  #closed: Promise<void> | undefined;

  private constructor(server: HttpServer | HttpsServer, url: string, auth: AuthConfig, defaultLifetimeSeconds: number) {
    this.url = url;
    this.#server = server;
    this.#auth = auth;
    this.#defaultLifetimeSeconds = defaultLifetimeSeconds;
    this.#context = {
      auth,
      iam: this.#iam,
      registry: this.#registry,
      records: this,
      scripted: this.#scripted,
      closing: this.#closing.signal,
      lifetimeSeconds: (issuer) => this.#lifetimeFor(issuer),
    };
  }

  static async start(opts: GatewayOptions): Promise<GatewayEmulator> {
    const mode = opts.auth ?? 'iam';
    if (mode === 'basic' && opts.basicAuth === undefined) throw new Error('auth: basic requires basicAuth');
    const defaultLifetime = opts.defaultTokenLifetimeSeconds ?? 3600;
    requirePositiveSeconds(defaultLifetime, 'defaultTokenLifetimeSeconds');

    const server = opts.tls === undefined ? createServer() : createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert });
    const url = await listenOnLoopback(server, opts.tls === undefined ? 'http' : 'https');
    const systemIssuer = await SystemIssuer.create(opts.systemIssuer ?? url);
    const gateway = new GatewayEmulator(server, url, { mode, basicAuth: opts.basicAuth, systemIssuer }, defaultLifetime);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      gateway.#onRequest(req, res).catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
    });
    return gateway;
  }

  /** The system issuer URL: `iss` and `aud` of issued access tokens. */
  get systemIssuer(): string {
    return this.#auth.systemIssuer.iss;
  }

  /** Public keys of the system issuer, to verify issued access tokens in tests. */
  systemJwks(): JSONWebKeySet {
    return this.#auth.systemIssuer.jwks();
  }

  // IAM objects

  addJwtIssuer(name: string, spec: JwtIssuerSpec): void {
    this.#iam.addJwtIssuer(name, spec);
  }

  removeJwtIssuer(name: string): void {
    this.#iam.removeJwtIssuer(name);
  }

  setPolicy(name: string, spec: PolicySpec): void {
    this.#iam.setPolicy(name, spec);
  }

  deletePolicy(name: string): void {
    this.#iam.deletePolicy(name);
  }

  setRole(name: string, spec: RoleSpec): void {
    this.#iam.setRole(name, spec);
  }

  deleteRole(name: string): void {
    this.#iam.deleteRole(name);
  }

  /** Overrides the lifetime of issued tokens (all issuers); `undefined` restores the normal rules. */
  setTokenLifetime(seconds: number | undefined): void {
    if (seconds !== undefined) requirePositiveSeconds(seconds, 'token lifetime');
    this.#lifetimeOverride = seconds;
  }

  /** Signs an access token directly, bypassing the exchange (e.g. one that already expired). */
  async issueAccessToken(request: AccessTokenRequest): Promise<string> {
    const token = await this.#auth.systemIssuer.sign(
      { sub: request.sub, policy: [...request.policy] },
      {
        lifetimeSeconds: request.lifetimeSeconds ?? this.#lifetimeOverride ?? this.#defaultLifetimeSeconds,
        ...(request.issuedAt === undefined ? {} : { issuedAt: request.issuedAt }),
        ...(request.aud === undefined ? {} : { aud: request.aud }),
      },
    );
    this.issuedTokens.push(token);
    return token;
  }

  // Namespaces and functions

  /** Replaces the set of namespaces: kept ones keep their functions, dropped ones lose them. */
  setNamespaces(names: string[]): void {
    this.#registry.setNamespaces(names);
  }

  removeNamespace(namespace: string): void {
    this.#registry.removeNamespace(namespace);
  }

  /** Replaces the functions of `namespace` (adding the namespace if needed); `createdAt` is filled in when absent. */
  setFunctions(namespace: string, functions: FunctionStatus[]): void {
    this.#registry.setFunctions(namespace, functions);
  }

  removeFunction(namespace: string, name: string): void {
    this.#registry.removeFunction(namespace, name);
  }

  /**
   * Serves `body` verbatim (status 200, `application/json`) as the function list of `namespace`,
   * adding the namespace if needed; `undefined` goes back to the real list. Shorthand for
   * `setFunctionListResponse(namespace, { kind: 'body', body })`.
   */
  setRawFunctionList(namespace: string, body: string | undefined): void {
    this.setFunctionListResponse(namespace, body === undefined ? undefined : { kind: 'body', body });
  }

  /**
   * Answers `GET /system/functions?namespace=<namespace>` with `response` (after the usual
   * authentication and `Function:List` check), adding the namespace if needed; `undefined` goes
   * back to the real list. Requests answered this way record `response` itself as
   * `scriptedResponse` (and `responseBytes`), so tests can tell which answer each one got.
   */
  setFunctionListResponse(namespace: string, response: ScriptedResponse | undefined): void {
    if (response === undefined) {
      this.#scripted.functions.delete(namespace);
      return;
    }
    validateScriptedResponse(response);
    if (!this.#registry.hasNamespace(namespace)) this.#registry.setFunctions(namespace, []);
    this.#scripted.functions.set(namespace, response);
  }

  /** Answers `GET /system/namespaces` with `response` (after authentication); `undefined` goes back to the real list. */
  setNamespaceListResponse(response: ScriptedResponse | undefined): void {
    if (response !== undefined) validateScriptedResponse(response);
    this.#scripted.namespaces = response;
  }

  /** How a function answers sync invocations: status (200), body (`ok`), delayMs (0). */
  setFunctionBehavior(namespace: string, name: string, behavior: FunctionBehavior): void {
    this.#registry.setBehavior(namespace, name, behavior);
  }

  // Faults

  setFault(target: FaultTarget, fault: Fault | undefined): void {
    this.#faults.set(target, fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  // Records and lifecycle

  /** Empties `requests`, `invocations`, `exchanges` and `issuedTokens`. */
  clearRecords(): void {
    for (const list of [this.requests, this.invocations, this.exchanges, this.issuedTokens]) list.length = 0;
  }

  waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    return waitFor(predicate, timeoutMs, what);
  }

  /** Stops listening and destroys every open connection, including hanging ones. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#closing.abort(new Error('gateway closed'));
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closed;
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = this.#record(req);
    res.once('finish', () => {
      record.status = res.statusCode;
    });
    try {
      const url = parseRequestUrl(req.url);
      // The gateway's health check: no credentials, no function run, never faulted here.
      if (url.pathname === '/healthz' && req.method === 'GET') return sendText(res, 200, 'OK');
      const route = this.#route(url.pathname);
      const fault = this.#faults.take(route.group);
      if (fault !== undefined && (await actOutFault(fault, req, res, this.#closing.signal, record)) === 'handled') return;
      const request: GatewayRequest = { req, res, url, body: await readBody(req), record };
      await route.handle(this.#context, request);
    } catch (error) {
      sendError(res, error);
    }
  }

  #record(req: IncomingMessage): RecordedRequest {
    const [path = '', query = ''] = (req.url ?? '').split(/\?(.*)/s);
    const record: RecordedRequest = { method: req.method ?? '', path, query, headers: headerRecord(req), at: preciseNow(), status: 0 };
    this.requests.push(record);
    return record;
  }

  #route(pathname: string): Route {
    if (pathname === '/oauth/token') {
      return { group: 'token', handle: this.#auth.mode === 'iam' ? handleTokenExchange : notFound };
    }
    if (pathname === '/system/namespaces') return { group: 'namespaces', handle: handleListNamespaces };
    if (pathname === '/system/functions') return { group: 'functions', handle: handleListFunctions };
    if (pathname.startsWith('/system/')) return { group: undefined, handle: handleUnknownSystemPath };
    if (pathname.startsWith(SYNC_PREFIX) || pathname.startsWith(ASYNC_PREFIX)) return { group: 'invoke', handle: handleInvoke };
    return { group: undefined, handle: notFound };
  }

  #lifetimeFor(issuer: StoredJwtIssuer): number {
    return this.#lifetimeOverride ?? issuer.tokenExpirySeconds ?? this.#defaultLifetimeSeconds;
  }
}

function notFound(): Promise<void> {
  return Promise.reject(new HttpError(404, 'not found'));
}

function parseRequestUrl(raw: string | undefined): URL {
  if (raw === undefined || !raw.startsWith('/')) throw new HttpError(400, 'bad request target');
  try {
    return new URL(`http://gateway${raw}`);
  } catch {
    throw new HttpError(400, 'bad request target');
  }
}

function listenOnLoopback(server: HttpServer | HttpsServer, scheme: 'http' | 'https'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve(`${scheme}://127.0.0.1:${port}`);
    });
  });
}

function requirePositiveSeconds(seconds: number, what: string): void {
  if (!(Number.isInteger(seconds) && seconds > 0)) throw new Error(`${what} must be a positive whole number of seconds, got ${seconds}`);
}
