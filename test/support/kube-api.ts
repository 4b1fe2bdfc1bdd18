/**
 * A Kubernetes API server emulator on 127.0.0.1 over real HTTP(S), for running code that uses
 * `@kubernetes/client-node` (through a kubeconfig from `writeKubeconfig`) against it. It serves
 * namespaced Leases (`coordination.k8s.io/v1`) and ConfigMaps (`v1`) with the real API's
 * conventions — resourceVersion preconditions, merge and JSON patches, Status bodies with the real
 * messages — plus ServiceAccount TokenRequests, bearer-token authentication, RBAC rules per user,
 * runtime fault switches and a request log. It shares no code with the production client.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { KubeIssuer } from './kube-issuer.ts';
import { isObject, nowTime } from './kube-api/go-json.ts';
import type { JsonObject } from './kube-api/go-json.ts';
import { canonical, createObject, deleteCollection, deleteObject, getObject, listObjects, patchObject, replaceObject } from './kube-api/handlers.ts';
import type { HandlerContext, ResourceRequest } from './kube-api/handlers.ts';
import { checkAccept, readBody, sendError, sendJson, sendText } from './kube-api/http-io.ts';
import type { JsonAnswer } from './kube-api/http-io.ts';
import { writeKubeconfigFile } from './kube-api/kubeconfig.ts';
import type { KubeconfigOptions } from './kube-api/kubeconfig.ts';
import { allowedByRules, forbiddenFor } from './kube-api/rbac.ts';
import type { PolicyRule } from './kube-api/rbac.ts';
import { combinedResource, parseRequestInfo } from './kube-api/request-info.ts';
import { findResource, resourceDef } from './kube-api/resources.ts';
import type { KubeResource } from './kube-api/resources.ts';
import { badRequest, injectedFailure, methodNotAllowed, pathNotFound, unauthorized } from './kube-api/status.ts';
import { ObjectStore } from './kube-api/store.ts';
import { handleTokenRequest } from './kube-api/token-request.ts';
import type { IssuedServiceAccountToken } from './kube-api/token-request.ts';
import { sleep, waitFor } from './wait.ts';

export type { KubeconfigOptions } from './kube-api/kubeconfig.ts';
export { KUBECONFIG_CLUSTER, KUBECONFIG_CONTEXT, kubeconfigText } from './kube-api/kubeconfig.ts';
export type { PolicyRule } from './kube-api/rbac.ts';
export type { KubeResource } from './kube-api/resources.ts';
export type { KubeStatus, StatusCause, StatusDetails } from './kube-api/status.ts';
export { OPTIMISTIC_LOCK_MESSAGE } from './kube-api/status.ts';
export { FIRST_RESOURCE_VERSION } from './kube-api/store.ts';
export type { IssuedServiceAccountToken } from './kube-api/token-request.ts';
export { DEFAULT_TOKEN_SECONDS, MIN_TOKEN_SECONDS } from './kube-api/token-request.ts';
export { JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH } from './kube-api/handlers.ts';

/** The token the default user authenticates with. */
export const DEFAULT_KUBE_TOKEN = 'test-token';
/** The default user: the connector's ServiceAccount. */
export const DEFAULT_KUBE_USER = 'system:serviceaccount:openfaas:cron-connector';

export interface KubeApiOptions {
  /** Serve HTTPS with this PEM key and certificate chain (see `createTestPki()` in `tls.ts`). Default plain HTTP. */
  tls?: { key: string; cert: string };
  /** Signs TokenRequest tokens. Default: a new `KubeIssuer`. */
  issuer?: KubeIssuer;
  /**
   * The API server's audiences: what a TokenRequest without `spec.audiences` gets, and what a minted
   * token must be issued for to authenticate to the emulator itself. Default `[issuer.iss]`.
   */
  apiAudiences?: string[];
}

export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A stored object as the API returns it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeObjectMeta;
  [key: string]: unknown;
}

export interface KubeRequestRecord {
  /** Arrival, `Date.now()`. */
  at: number;
  method: string;
  /** URL path, without the query. */
  path: string;
  query: string;
  /** The Kubernetes verb (`get`, `list`, `create`, `update`, `patch`, `delete`, ...); the lowercased method for non-resource paths. */
  verb: string;
  /** `leases`, `configmaps`, `serviceaccounts/token`; '' for non-resource paths. */
  resource: string;
  /** '' when the path has none. */
  namespace: string;
  name?: string;
  /** The authenticated user; absent when authentication failed or was not reached. */
  user?: string;
  /** The answer's status; 0 while pending or when the connection was cut. */
  status: number;
  contentType?: string;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz']);

export function startKubeApi(opts: KubeApiOptions = {}): Promise<KubeApiServer> {
  return KubeApiServer.start(opts);
}

export class KubeApiServer {
  /** e.g. `http://127.0.0.1:41234` (`https://` with the `tls` option). */
  readonly url: string;
  readonly issuer: KubeIssuer;
  readonly apiAudiences: readonly string[];
  readonly requests: KubeRequestRecord[] = [];
  /** Every token minted through a TokenRequest, in order. */
  readonly issuedTokens: IssuedServiceAccountToken[] = [];

  readonly #server: HttpServer | HttpsServer;
  readonly #store = new ObjectStore();
  readonly #tokens = new Map<string, string>([[DEFAULT_KUBE_TOKEN, DEFAULT_KUBE_USER]]);
  readonly #rules = new Map<string, PolicyRule[]>();
  readonly #serviceAccounts = new Map<string, string>();
  readonly #sockets = new Set<Socket>();
  readonly #closing = new AbortController();
  readonly #handlerContext: HandlerContext;
  #accepted = 0;
  #down = false;
  #slowMs = 0;
  #failures = { remaining: 0, status: 500 };
  #conflicts = 0;
  #closed: Promise<void> | undefined;

  private constructor(server: HttpServer | HttpsServer, url: string, issuer: KubeIssuer, apiAudiences: string[]) {
    this.#server = server;
    this.url = url;
    this.issuer = issuer;
    this.apiAudiences = apiAudiences;
    this.#handlerContext = { store: this.#store, takeConflict: () => this.#takeConflict() };
  }

  static async start(opts: KubeApiOptions): Promise<KubeApiServer> {
    const issuer = opts.issuer ?? (await KubeIssuer.create());
    const server = opts.tls === undefined ? createServer() : createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert });
    const url = await listenOnLoopback(server, opts.tls === undefined ? 'http' : 'https');
    const api = new KubeApiServer(server, url, issuer, [...(opts.apiAudiences ?? [issuer.iss])]);
    server.on('connection', (socket: Socket) => api.#onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      api.#onRequest(req, res).catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
    });
    return api;
  }

  /** Writes a kubeconfig for this server into `dir` (token auth, namespace in the context) and returns its path. */
  writeKubeconfig(dir: string, opts: KubeconfigOptions = {}): Promise<string> {
    return writeKubeconfigFile(dir, this.url, opts);
  }

  // Users, ServiceAccounts, RBAC

  /** Bearer `token` authenticates as `username`. */
  addUser(token: string, username: string): void {
    this.#tokens.set(token, username);
  }

  removeUser(token: string): void {
    this.#tokens.delete(token);
  }

  /** Registers a ServiceAccount (TokenRequests for others answer 404); returns its uid. */
  addServiceAccount(namespace: string, name: string): string {
    const key = `${namespace}/${name}`;
    const uid = this.#serviceAccounts.get(key) ?? randomUUID();
    this.#serviceAccounts.set(key, uid);
    return uid;
  }

  /** Tokens minted for it stop authenticating too, as with the real API. */
  removeServiceAccount(namespace: string, name: string): void {
    this.#serviceAccounts.delete(`${namespace}/${name}`);
  }

  /**
   * From now on `user` may only do what `rules` allow (as if bound to a Role with them);
   * `undefined` goes back to the default, where every user may do everything.
   */
  setRules(user: string, rules: PolicyRule[] | undefined): void {
    if (rules === undefined) this.#rules.delete(user);
    else this.#rules.set(user, structuredClone(rules));
  }

  // Objects behind the client's back

  /**
   * Stores `object` (namespace and name from its metadata) as another writer would: a new
   * resourceVersion; uid and creationTimestamp kept from the stored object or filled in. Not
   * validated, so tests can plant shapes the real API would refuse. Returns the stored copy.
   */
  setObject(resource: KubeResource, object: KubeObject): KubeObject {
    const def = resourceDef(resource);
    const { namespace, name } = object.metadata;
    if (typeof namespace !== 'string' || namespace === '' || typeof name !== 'string' || name === '') {
      throw new Error('setObject: metadata.namespace and metadata.name are required');
    }
    const existing = this.#store.get(resource, namespace, name);
    const existingMeta = isObject(existing?.metadata) ? existing.metadata : {};
    const copy = canonical(def, structuredClone(object));
    const meta = copy.metadata as JsonObject;
    meta.uid ??= existingMeta.uid ?? randomUUID();
    meta.creationTimestamp ??= existingMeta.creationTimestamp ?? nowTime();
    meta.resourceVersion = this.#store.nextRevision();
    const stored = canonical(def, copy);
    this.#store.set(resource, namespace, name, stored);
    return structuredClone(stored) as KubeObject;
  }

  /** A deep copy of the stored object, or undefined. */
  getObject(resource: KubeResource, namespace: string, name: string): KubeObject | undefined {
    const object = this.#store.get(resource, namespace, name);
    return object === undefined ? undefined : (structuredClone(object) as KubeObject);
  }

  /** Deep copies of the stored objects of `resource`, in one namespace or all. */
  listObjects(resource: KubeResource, namespace?: string): KubeObject[] {
    return this.#store.list(resource, namespace).map((object) => structuredClone(object) as KubeObject);
  }

  /** Deletes as another client would (advancing the resourceVersion); false when there was nothing. */
  deleteObject(resource: KubeResource, namespace: string, name: string): boolean {
    const deleted = this.#store.delete(resource, namespace, name);
    if (deleted) this.#store.nextRevision();
    return deleted;
  }

  /** The current global resourceVersion (what a list would report). */
  get resourceVersion(): string {
    return this.#store.revision;
  }

  /** TCP connections accepted so far (refused ones while `down` not counted). client-node 2.0.1 opens one per request. */
  get connectionsAccepted(): number {
    return this.#accepted;
  }

  /** TCP connections open right now (idle keep-alive ones included). */
  get openConnections(): number {
    return this.#sockets.size;
  }

  // Faults

  /**
   * While on, the server is gone: open connections (idle keep-alive ones and those with a request
   * in flight) are destroyed at once and new ones are reset as they arrive.
   */
  down(on: boolean): void {
    this.#down = on;
    if (on) for (const socket of this.#sockets) socket.destroy();
  }

  /** Delays every request by `ms` before it is handled (0 turns it off). */
  slow(ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new Error(`slow: ms must be a non-negative number, got ${ms}`);
    this.#slowMs = ms;
  }

  /** The next `n` requests (any path, before authentication) are answered with a Status of `status`; 429 and 503 carry `Retry-After: 1`. */
  failNext(n: number, status = 500): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`failNext: n must be a non-negative integer, got ${n}`);
    if (!(Number.isInteger(status) && status >= 400 && status <= 599)) throw new Error(`failNext: status must be 4xx or 5xx, got ${status}`);
    this.#failures = { remaining: n, status };
  }

  /** The next `n` updates and patches of an existing object answer 409 Conflict without applying, whatever their resourceVersion. */
  conflictNext(n: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`conflictNext: n must be a non-negative integer, got ${n}`);
    this.#conflicts = n;
  }

  /** Turns every fault off. */
  clearFaults(): void {
    this.#down = false;
    this.#slowMs = 0;
    this.#failures = { remaining: 0, status: 500 };
    this.#conflicts = 0;
  }

  // Records and lifecycle

  /** The recorded create, update, patch, delete and deletecollection requests. */
  writes(): KubeRequestRecord[] {
    return this.requests.filter((record) => WRITE_VERBS.has(record.verb));
  }

  /** Empties `requests` and `issuedTokens`. */
  clearRequests(): void {
    this.requests.length = 0;
    this.issuedTokens.length = 0;
  }

  waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    return waitFor(predicate, timeoutMs, what);
  }

  /** Stops listening and destroys every open connection, including pending ones. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#closing.abort(new Error('kube-api emulator closed'));
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closed;
  }

  #onConnection(socket: Socket): void {
    if (this.#down) {
      socket.resetAndDestroy();
      return;
    }
    this.#accepted += 1;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://kube-api');
    } catch {
      sendError(res, badRequest('bad request target'));
      return;
    }
    const info = parseRequestInfo(method, url);
    const contentType = req.headers['content-type'];
    const record: KubeRequestRecord = {
      at: Date.now(),
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      verb: info.verb,
      resource: combinedResource(info),
      namespace: info.namespace,
      ...(info.name === '' ? {} : { name: info.name }),
      status: 0,
      ...(contentType === undefined ? {} : { contentType }),
    };
    this.requests.push(record);
    res.once('finish', () => {
      record.status = res.statusCode;
    });

    try {
      const body = await readBody(req);
      if (this.#slowMs > 0) await sleep(this.#slowMs, this.#closing.signal);
      if (this.#failures.remaining > 0) {
        this.#failures.remaining -= 1;
        throw injectedFailure(this.#failures.status);
      }
      if (!info.isResourceRequest && HEALTH_PATHS.has(info.path) && method === 'GET') {
        sendText(res, 200, 'ok');
        return;
      }
      const user = await this.#authenticate(req.headers.authorization);
      record.user = user;
      checkAccept(req.headers.accept);
      const rules = this.#rules.get(user);
      if (rules !== undefined && info.isResourceRequest && !allowedByRules(rules, info)) throw forbiddenFor(user, info);
      sendJson(res, await this.#route({ info, url, body, contentType }));
    } catch (error) {
      if (this.#closing.signal.aborted) {
        res.destroy();
        return;
      }
      sendError(res, error);
    }
  }

  async #authenticate(authorization: string | undefined): Promise<string> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) throw unauthorized();
    const user = this.#tokens.get(token);
    if (user !== undefined) return user;
    return this.#authenticateServiceAccountToken(token);
  }

  /** A token minted by a TokenRequest for one of the API audiences, of a ServiceAccount that still exists. */
  async #authenticateServiceAccountToken(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.issuer.jwks()), {
        issuer: this.issuer.iss,
        audience: [...this.apiAudiences],
      });
      const claims = payload['kubernetes.io'];
      if (isObject(claims) && typeof claims.namespace === 'string' && isObject(claims.serviceaccount)) {
        const { name, uid } = claims.serviceaccount;
        if (typeof name === 'string' && uid === this.#serviceAccounts.get(`${claims.namespace}/${name}`)) {
          return `system:serviceaccount:${claims.namespace}:${name}`;
        }
      }
    } catch {
      // not a token of ours
    }
    throw unauthorized();
  }

  async #route(request: ResourceRequest): Promise<JsonAnswer> {
    const { info } = request;
    if (!info.isResourceRequest) {
      if (info.path === '/version' && info.verb === 'get') return { status: 200, body: VERSION };
      throw pathNotFound();
    }
    if (info.verb === 'watch') throw badRequest('watch is not supported by the kube-api emulator');

    if (info.apiGroup === '' && info.apiVersion === 'v1' && info.resource === 'serviceaccounts' && info.subresource === 'token') {
      if (info.namespace === '') throw pathNotFound();
      if (info.verb !== 'create') throw methodNotAllowed();
      return handleTokenRequest(
        {
          issuer: this.issuer,
          apiAudiences: this.apiAudiences,
          serviceAccountUid: (namespace, name) => this.#serviceAccounts.get(`${namespace}/${name}`),
          recordToken: (issued) => this.issuedTokens.push(issued),
        },
        request,
      );
    }

    const def = findResource(info.apiGroup, info.apiVersion, info.resource);
    if (def === undefined || info.subresource !== '') throw pathNotFound();
    const ctx = this.#handlerContext;
    if (info.namespace === '') {
      // All namespaces: only a list is served; a named object needs its namespace.
      if (info.name !== '') throw pathNotFound();
      if (info.verb === 'list') return listObjects(ctx, def, request);
      throw methodNotAllowed();
    }
    switch (info.verb) {
      case 'get':
        return getObject(ctx, def, request);
      case 'list':
        return listObjects(ctx, def, request);
      case 'create':
        if (info.name !== '') throw methodNotAllowed();
        return createObject(ctx, def, request);
      case 'update':
        if (info.name === '') throw methodNotAllowed();
        return replaceObject(ctx, def, request);
      case 'patch':
        if (info.name === '') throw methodNotAllowed();
        return patchObject(ctx, def, request);
      case 'delete':
        return deleteObject(ctx, def, request);
      case 'deletecollection':
        return deleteCollection(ctx, def, request);
      default:
        throw methodNotAllowed();
    }
  }

  #takeConflict(): boolean {
    if (this.#conflicts <= 0) return false;
    this.#conflicts -= 1;
    return true;
  }
}

const VERSION = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-kube-api-emulator',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

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
