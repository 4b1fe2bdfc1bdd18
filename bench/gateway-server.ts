/**
 * A lean OpenFaaS gateway for the benchmarks, run as its own process (`node bench/gateway-server.ts`,
 * spawned by bench/lib/gateway.ts with an IPC channel). It listens on 127.0.0.1 only.
 *
 * - IAM is real, reusing the emulator's pieces from test/support: a Kubernetes-style issuer signs
 *   the projected token (written kubelet-style to a ProjectedTokenDir), `POST /oauth/token` runs
 *   the emulator's RFC 8693 exchange against a JwtIssuer, Policy (`*`) and Role, and `/system/*`
 *   checks the Bearer token's signature (each distinct token is verified once, then cached until
 *   it expires).
 * - The hot paths are lean: function listings are served from a per-namespace JSON buffer built
 *   once per change; an invocation is timestamped first thing in the request listener
 *   (`performance.timeOrigin + performance.now()` anchored to `Date.now()`, plus `Date.now()`
 *   itself for the never-early check),
 *   recorded with its `X-Cron-Scheduled-Time`, `X-Cron-Attempt` and `X-Cron-Execution-Id`, and
 *   answered 200 at once.
 * - The harness drives it over IPC: populations of functions, schedule churn, per-pass function
 *   churn, and taking the records.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IamStore } from '../test/support/gateway/iam-store.ts';
import { SystemIssuer } from '../test/support/gateway/system-issuer.ts';
import { exchangeToken, TOKEN_TYPE_ID_TOKEN } from '../test/support/gateway/token-exchange.ts';
import { KubeIssuer } from '../test/support/kube-issuer.ts';
import { ProjectedTokenDir } from '../test/support/token-dir.ts';
import type { ChurnSpec, GatewayCommand, InvocationRecords, PopulationSpec, ScheduleSpec, SystemCall } from './lib/protocol.ts';

const TOKEN_LIFETIME_SECONDS = 3600;
const SERVICE_ACCOUNT = { namespace: 'openfaas', serviceAccount: 'cron-connector' };

// ---- state -------------------------------------------------------------------------------

interface FnEntry {
  readonly name: string;
  readonly base: string;
  readonly alt: string;
  schedule: string;
  /** This function's JSON, cached until its schedule changes. */
  json: string | undefined;
}

interface Namespace {
  readonly fns: FnEntry[];
  json: Buffer | undefined;
}

const namespaces = new Map<string, Namespace>();
let namespaceList: Buffer = Buffer.from('[]');
/** Every function in creation order, for spreading schedule changes evenly. */
let allFunctions: Array<{ ns: Namespace; fn: FnEntry }> = [];
const createdAt = new Date().toISOString();

let mutateHook: { fromPass: number; count: number } | undefined;
let churn: (ChurnSpec & { generation: number }) | undefined;
let namespaceCalls = 0;
let mutateStep = 0;

const calls: SystemCall[] = [];
let fullRecords = true;
let inv = emptyRecords();
/** Arrivals per nominal time (first attempts), so the harness can wait for a slot to complete. */
let perSlot = new Map<number, number>();

function emptyRecords(): InvocationRecords {
  return { path: [], at: [], wall: [], nominal: [], attempt: [], execId: [], total: 0, early: 0, retries: 0, maxLatenessMs: 0, naiveTotal: 0, naiveEarly: 0, bareTotal: 0, bareEarly: 0 };
}

function expression(spec: ScheduleSpec, index: number, alternative: boolean): string {
  if (spec.kind === 'fixed') return alternative ? (spec.alt ?? spec.expr) : spec.expr;
  // 1440 distinct daily expressions that only fire on 1 January (or 2 January for the
  // alternative): realistic variety that stays quiet while discovery is measured.
  const minute = index % 60;
  const hour = Math.floor(index / 60) % 24;
  return `${minute} ${hour} ${alternative ? 2 : 1} 1 *`;
}

function status(ns: string, fn: FnEntry): Record<string, unknown> {
  return {
    name: fn.name,
    image: 'ghcr.io/openfaas/nodeinfo:latest',
    namespace: ns,
    createdAt,
    envProcess: 'node index.js',
    labels: { faas_function: fn.name, 'com.openfaas.scale.min': '1', team: 'bench' },
    annotations: { topic: 'cron-function', schedule: fn.schedule, 'prometheus.io.scrape': 'false' },
    limits: { memory: '128Mi' },
    readOnlyRootFilesystem: true,
    replicas: 1,
    availableReplicas: 1,
    invocationCount: 0,
  };
}

function namespaceJson(name: string, ns: Namespace): Buffer {
  if (ns.json === undefined) {
    const parts = ns.fns.map((fn) => (fn.json ??= JSON.stringify(status(name, fn))));
    ns.json = Buffer.from(`[${parts.join(',')}]`);
  }
  return ns.json;
}

function rebuildNamespaceList(): void {
  namespaceList = Buffer.from(JSON.stringify([...namespaces.keys()]));
}

function setPopulation(spec: PopulationSpec): { functions: number; namespaces: number; list?: Array<{ path: string; expr: string }> } {
  namespaces.clear();
  allFunctions = [];
  mutateHook = undefined;
  churn = undefined;
  namespaceCalls = 0;
  mutateStep = 0;
  const list: Array<{ path: string; expr: string }> = [];
  let index = 0;
  for (const group of spec.groups) {
    for (let n = 0; n < group.namespaces; n++) {
      const nsName = group.namespaces === 1 ? group.nsPrefix : `${group.nsPrefix}-${String(n).padStart(4, '0')}`;
      const ns: Namespace = { fns: [], json: undefined };
      for (let f = 0; f < group.perNamespace; f++) {
        const base = expression(group.schedule, index, false);
        const fn: FnEntry = { name: `${group.namePrefix}${String(f).padStart(5, '0')}`, base, alt: expression(group.schedule, index, true), schedule: base, json: undefined };
        ns.fns.push(fn);
        allFunctions.push({ ns, fn });
        if (spec.returnList === true) list.push({ path: `/function/${fn.name}.${nsName}`, expr: base });
        index++;
      }
      namespaces.set(nsName, ns);
    }
  }
  rebuildNamespaceList();
  // Serialize every listing now, so the first pass measures the connector, not this process.
  for (const [name, ns] of namespaces) namespaceJson(name, ns);
  return { functions: allFunctions.length, namespaces: namespaces.size, ...(spec.returnList === true ? { list } : {}) };
}

/** Flips the schedule of `count` functions spread evenly over every namespace. */
function mutate(count: number): number {
  const total = allFunctions.length;
  if (total === 0 || count <= 0) return 0;
  const stride = Math.max(1, Math.floor(total / count));
  const n = Math.min(count, total);
  for (let k = 0; k < n; k++) {
    const entry = allFunctions[(k * stride + mutateStep) % total];
    if (entry === undefined) continue;
    entry.fn.schedule = entry.fn.schedule === entry.fn.base ? entry.fn.alt : entry.fn.base;
    entry.fn.json = undefined;
    entry.ns.json = undefined;
  }
  mutateStep++;
  return n;
}

function advanceChurn(): void {
  if (churn === undefined) return;
  churn.generation++;
  const ns: Namespace = { fns: [], json: undefined };
  for (let j = 0; j < churn.size; j++) {
    const expr = churn.schedule;
    ns.fns.push({ name: `g${churn.generation}-f${j}`, base: expr, alt: expr, schedule: expr, json: undefined });
  }
  const fresh = !namespaces.has(churn.namespace);
  namespaces.set(churn.namespace, ns);
  if (fresh) rebuildNamespaceList();
}

// ---- HTTP --------------------------------------------------------------------------------

const kube = await KubeIssuer.create();
const iam = new IamStore();
const server = createServer({ keepAliveTimeout: 65_000 });
server.headersTimeout = 66_000;
const port = await new Promise<number>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
});
const url = `http://127.0.0.1:${port}`;
const systemIssuer = await SystemIssuer.create(url);
iam.addJwtIssuer('kubernetes', { iss: kube.iss, aud: [url], tokenExpiry: `${TOKEN_LIFETIME_SECONDS}s`, jwks: () => kube.jwks() });
iam.setPolicy('cron-connector', {
  statement: [{ sid: '1-fn-r', effect: 'Allow', action: ['Function:List', 'Namespace:List'], resource: ['*'] }],
});
iam.setRole('cron-connector', {
  policy: ['cron-connector'],
  principal: { 'jwt:sub': [`system:serviceaccount:${SERVICE_ACCOUNT.namespace}:${SERVICE_ACCOUNT.serviceAccount}`] },
  condition: { StringEqual: { 'jwt:iss': [kube.iss] } },
});
const tokens = await ProjectedTokenDir.create();
await tokens.write(await kube.issue({ ...SERVICE_ACCOUNT, aud: url, lifetimeSeconds: 24 * 3600 }));

/** Verified access tokens and their expiry (ms). */
const verified = new Map<string, number>();

async function authorized(req: IncomingMessage): Promise<boolean> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  if (token === undefined) return false;
  const known = verified.get(token);
  if (known !== undefined) return Date.now() < known;
  const result = await systemIssuer.verify(token);
  if (!result.ok) return false;
  verified.set(token, (result.claims.exp ?? 0) * 1000);
  return true;
}

function reply(res: ServerResponse, status: number, body: Buffer | string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function onToken(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  calls.push({ t: Date.now(), kind: 'token' });
  const fields = new URLSearchParams(query);
  for (const [k, v] of new URLSearchParams(await readBody(req))) fields.set(k, v);
  const outcome = await exchangeToken(fields, { iam, systemIssuer, lifetimeSeconds: () => TOKEN_LIFETIME_SECONDS });
  if (!outcome.ok) {
    reply(res, 400, JSON.stringify({ error: 'invalid_request', error_description: outcome.description }));
    return;
  }
  reply(
    res,
    200,
    JSON.stringify({ access_token: outcome.accessToken, issued_token_type: TOKEN_TYPE_ID_TOKEN, token_type: 'Bearer', expires_in: outcome.expiresIn }),
  );
}

async function onSystem(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
  req.resume();
  if (path === '/system/namespaces') {
    calls.push({ t: Date.now(), kind: 'namespaces' });
    if (!(await authorized(req))) return reply(res, 401, 'unauthorized', 'text/plain');
    namespaceCalls++;
    if (mutateHook !== undefined && namespaceCalls >= mutateHook.fromPass) mutate(mutateHook.count);
    advanceChurn();
    return reply(res, 200, namespaceList);
  }
  if (path === '/system/functions') {
    const name = new URLSearchParams(query).get('namespace') ?? '';
    calls.push({ t: Date.now(), kind: 'functions', ns: name });
    if (!(await authorized(req))) return reply(res, 401, 'unauthorized', 'text/plain');
    const ns = namespaces.get(name);
    if (ns === undefined) return reply(res, 404, `namespace ${name} not found`, 'text/plain');
    return reply(res, 200, namespaceJson(name, ns));
  }
  if (path === '/healthz') return reply(res, 200, 'OK', 'text/plain');
  reply(res, 404, 'not found', 'text/plain');
}

/**
 * Arrival times are high-resolution and anchored to Date.now(): `anchor` is the offset of
 * performance.timeOrigin + performance.now() from the wall clock, measured at the instant
 * Date.now() ticks over to a new millisecond (where the integer wall clock is exact). Re-anchored
 * by the harness before each run, while nothing is arriving (it spins for up to a few ms).
 */
let anchor = 0;

function measureAnchor(): number {
  const offsets: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = Date.now();
    let now = start;
    while (now === start) now = Date.now();
    offsets.push(performance.timeOrigin + performance.now() - now);
  }
  return offsets.sort((a, b) => a - b)[2] as number;
}
anchor = measureAnchor();

function onInvoke(req: IncomingMessage, res: ServerResponse, at: number, wall: number, path: string, query: string): void {
  req.resume();
  const header = req.headers['x-cron-scheduled-time'];
  const nominal = typeof header === 'string' ? Date.parse(header) : Number.NaN;
  const attempt = Number(req.headers['x-cron-attempt'] ?? 1) || 1;
  // The baselines mark their calls with ?via=naive or ?via=bare, so never-early is counted per side.
  if (query === 'via=naive') {
    inv.naiveTotal++;
    if (wall < nominal) inv.naiveEarly++;
  } else if (query === 'via=bare') {
    inv.bareTotal++;
    if (wall < nominal) inv.bareEarly++;
  } else {
    inv.total++;
    if (wall < nominal) inv.early++;
  }
  if (attempt > 1) inv.retries++;
  else perSlot.set(nominal, (perSlot.get(nominal) ?? 0) + 1);
  const lateness = at - nominal;
  if (lateness > inv.maxLatenessMs) inv.maxLatenessMs = lateness;
  if (fullRecords) {
    inv.path.push(path);
    inv.at.push(at);
    inv.wall.push(wall);
    inv.nominal.push(nominal);
    inv.attempt.push(attempt);
    const id = req.headers['x-cron-execution-id'];
    inv.execId.push(typeof id === 'string' ? id : '');
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
  res.end('ok');
}

server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  const at = performance.timeOrigin + performance.now() - anchor;
  const wall = Date.now();
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  if (path.startsWith('/function/') || path.startsWith('/async-function/')) return onInvoke(req, res, at, wall, path, query);
  const handle = path === '/oauth/token' ? onToken(req, res, query) : onSystem(req, res, path, query);
  handle.catch((err: unknown) => {
    if (!res.headersSent) reply(res, 500, `internal error: ${String(err)}`, 'text/plain');
  });
});

// ---- IPC ---------------------------------------------------------------------------------

function handle(cmd: GatewayCommand): unknown {
  switch (cmd.cmd) {
    case 'setPopulation':
      return setPopulation(cmd.spec);
    case 'mutateOnPasses':
      mutateHook = { fromPass: cmd.fromPass, count: cmd.count };
      return { ok: true };
    case 'churn':
      churn = { ...cmd.spec, generation: 0 };
      return { ok: true };
    case 'recordMode':
      fullRecords = cmd.full;
      return { ok: true };
    case 'count':
      return { total: inv.total + inv.naiveTotal + inv.bareTotal, slot: cmd.nominal === undefined ? 0 : (perSlot.get(cmd.nominal) ?? 0) };
    case 'takeInvocations': {
      const taken = inv;
      inv = emptyRecords();
      perSlot = new Map();
      return taken;
    }
    case 'takeCalls':
      return calls.splice(0);
    case 'anchor': {
      // Re-anchors the arrival clock; returns how far it had drifted from the wall clock since the last time.
      const previous = anchor;
      anchor = measureAnchor();
      return { driftMs: anchor - previous };
    }
  }
}

process.on('message', (message: { id: number } & GatewayCommand) => {
  let reply: { id: number; ok: boolean; result?: unknown; error?: string };
  try {
    reply = { id: message.id, ok: true, result: handle(message) };
  } catch (err) {
    reply = { id: message.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) };
  }
  process.send?.(reply);
});

const shutdown = (): void => {
  server.closeAllConnections();
  server.close();
  tokens.remove().then(
    () => process.exit(0),
    () => process.exit(0),
  );
};
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);

process.send?.({ ready: true, url, systemIssuer: url, tokenDir: tokens.path });
