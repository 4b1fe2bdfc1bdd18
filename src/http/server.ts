/**
 * The connector's HTTP port: /healthz (the process is alive and discovery makes progress),
 * /readyz (credentials obtained and a discovery pass succeeded recently), /metrics (Prometheus)
 * and /schedules (JSON status, a page at a time).
 * Any pod that can reach the port can call it, so no route may stall the connector: every route
 * failure (a throw, a rejected promise) is a 500 and one log line, never a crash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** A route's answer. */
export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface StatusSource {
  /** Undefined while the process makes progress, else why not (/healthz). */
  liveness(): string | undefined;
  /** Undefined when ready, else the reason (/readyz). */
  notReadyReason(): string | undefined;
  /** Prometheus text exposition and its content type. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The /schedules answer for the query `params`. */
  schedules(params: URLSearchParams): Promise<Reply>;
}

type Route = (source: StatusSource, params: URLSearchParams) => Reply | Promise<Reply>;

export function textReply(status: number, body: string): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${body}\n` };
}

const ROUTES: Readonly<Record<string, Route>> = {
  '/healthz': (source) => {
    const reason = source.liveness();
    return textReply(reason === undefined ? 200 : 503, reason ?? 'ok');
  },
  '/readyz': (source) => {
    const reason = source.notReadyReason();
    return textReply(reason === undefined ? 200 : 503, reason ?? 'ready');
  },
  '/metrics': async (source) => {
    const { contentType, body } = await source.metrics();
    return { status: 200, contentType, body };
  },
  '/schedules': (source, params) => source.schedules(params),
};

/** Connections served at once; more are closed as they arrive. */
export const MAX_CONNECTIONS = 256;

const NOT_FOUND = textReply(404, 'not found: try /healthz, /readyz, /metrics or /schedules');

function send(res: ServerResponse, reply: Reply, head: boolean): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-type': reply.contentType });
  res.end(head ? undefined : reply.body);
}

/** Calls a route so that a synchronous throw and a rejection end the same way. */
function answer(route: Route, source: StatusSource, params: URLSearchParams): Promise<Reply> {
  try {
    return Promise.resolve(route(source, params));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export function startHttpServer(port: number, source: StatusSource, logger: Logger): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // an absolute-form target the parser lets through ("GET http://[ HTTP/1.1") is no URL
    const url = URL.parse(req.url ?? '/', 'http://connector');
    if (url === null) {
      send(res, textReply(400, 'bad request target'), false);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const route = ROUTES[url.pathname];
    if (route === undefined) {
      send(res, NOT_FOUND, req.method === 'HEAD');
      return;
    }
    answer(route, source, url.searchParams).then(
      (reply) => send(res, reply, req.method === 'HEAD'),
      (err: unknown) => {
        logger.error({ path: url.pathname, error: describeError(err) }, 'HTTP request failed');
        if (res.headersSent) res.destroy();
        else send(res, textReply(500, `internal error serving ${url.pathname}; the connector's log has the details`), req.method === 'HEAD');
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  // a pod opening connections by the thousand does not get them all
  server.maxConnections = MAX_CONNECTIONS;
  // a client that never finishes its request does not hold a socket for long
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
