/**
 * The connector's HTTP port: /healthz (the process is alive), /readyz (credentials obtained and a
 * discovery pass succeeded recently), /metrics (Prometheus) and /schedules (JSON status).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';

export interface StatusSource {
  /** Undefined when ready, else the reason. */
  notReadyReason(): string | undefined;
  /** Prometheus text exposition and its content type. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The /schedules document. */
  schedules(): unknown;
}

type Route = (res: ServerResponse, source: StatusSource) => void | Promise<void>;

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
}

const ROUTES: Readonly<Record<string, Route>> = {
  '/healthz': (res) => text(res, 200, 'ok'),
  '/readyz': (res, source) => {
    const reason = source.notReadyReason();
    text(res, reason === undefined ? 200 : 503, reason ?? 'ready');
  },
  '/metrics': async (res, source) => {
    const { contentType, body } = await source.metrics();
    res.writeHead(200, { 'content-type': contentType }).end(body);
  },
  '/schedules': (res, source) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(source.schedules(), null, 2)}\n`);
  },
};

export function startHttpServer(port: number, source: StatusSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const route = ROUTES[path];
    if (route === undefined) {
      text(res, 404, 'not found: try /healthz, /readyz, /metrics or /schedules');
      return;
    }
    Promise.resolve(route(res, source)).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, `error: ${err instanceof Error ? err.message : String(err)}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
