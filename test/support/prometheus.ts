/**
 * A real Prometheus (Debian's `prometheus` package: the binary and promtool in /usr/bin) on
 * 127.0.0.1 for integration tests: scrapes the given loopback targets every second, evaluates
 * the given rule files every second, and answers queries through its HTTP API. Prometheus
 * cannot listen on port 0, so a free port is picked and the start retried if it was taken.
 * Each instance has its own temp dir (config, rule files, TSDB), removed by `stop()`; every
 * process started here is killed by `stopAllPrometheus()` and, as a last resort, when the test
 * process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { freePort } from '../helpers/ports.ts';
import { sleep } from './wait.ts';

const INSTALL_HINT =
  "install Debian's `prometheus` package (apt-get install prometheus: Prometheus and promtool in /usr/bin); CI installs it in .ci/run";

/** A loopback target to scrape, e.g. `{ address: '127.0.0.1:8081', labels: { job: 'cron-cron-connector', namespace: 'tenant-a' } }`. */
export interface ScrapeTarget {
  /** `host:port`. */
  address: string;
  /** Target labels (a `job` label here replaces the scrape job's name, as a ServiceMonitor's does). */
  labels?: Record<string, string>;
  /** Default `/metrics`. */
  metricsPath?: string;
}

/** A Prometheus rule file: `{ groups: [...] }` as an object, or its YAML text. */
export type RuleFile = string | { groups: unknown[] };

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Default `1s`. */
  scrapeInterval?: string;
  /** Default `1s`. */
  evaluationInterval?: string;
  ruleFiles?: RuleFile[];
  /** How long to wait for `/-/ready` per attempt; default 15 s. */
  readyTimeoutMs?: number;
}

/** A sample of an instant vector. */
export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A series of a range vector (or of a `queryRange` answer). */
export interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

export type QueryData =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

export interface QueryResult {
  data: QueryData;
  /** Prometheus's own warnings about the query, if any. */
  warnings: string[];
}

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export interface Rule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  health: string;
  lastError?: string;
  /** Alerting rules: `inactive`, `pending` or `firing`. */
  state?: 'inactive' | 'pending' | 'firing';
  /** Alerting rules: the `for` duration in seconds. */
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  alerts?: Alert[];
}

export interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  rules: Rule[];
}

export interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  lastScrape: string;
  health: 'up' | 'down' | 'unknown';
}

/** The API answered `status: "error"` (e.g. a query that does not parse). */
export class PrometheusApiError extends Error {
  readonly errorType: string;
  readonly status: number;
  constructor(request: string, status: number, errorType: string, message: string) {
    super(`${request}: ${errorType}: ${message}`);
    this.name = 'PrometheusApiError';
    this.status = status;
    this.errorType = errorType;
  }
}

/** Path of the `prometheus` (or `promtool`) binary; throws, saying what to install, when it is missing. */
export function prometheusBinary(name: 'prometheus' | 'promtool' = 'prometheus'): string {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin'].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not installed: ${INSTALL_HINT}`);
}

const running = new Set<PrometheusServer>();
let exitHookInstalled = false;

/** Stops every Prometheus started by this process (for `afterEach`/`afterAll`). */
export async function stopAllPrometheus(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A worker that dies without its afterAll leaves no Prometheus behind.
  process.once('exit', () => {
    for (const p of running) p.kill();
  });
}

/** Starts Prometheus on a free loopback port and waits until `/-/ready`. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const binary = prometheusBinary();
  installExitHook();
  const dir = mkdtempSync(path.join(tmpdir(), 'prometheus-test-'));
  try {
    const configFile = writeConfig(dir, opts);
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const port = await freePort();
      const server = new PrometheusServer(binary, dir, configFile, port, ruleFilePaths(dir, opts.ruleFiles?.length ?? 0));
      try {
        await server.ready(opts.readyTimeoutMs ?? 15_000);
        return server;
      } catch (error) {
        await server.stop({ keepDir: true });
        lastError = error instanceof Error ? error : new Error(String(error));
        // someone took the port between freePort() and the bind: try another one
        if (!server.output().includes('address already in use')) break;
      }
    }
    throw lastError ?? new Error('prometheus did not start');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function ruleFilePaths(dir: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => path.join(dir, `rules-${String(i)}.yml`));
}

function writeConfig(dir: string, opts: PrometheusOptions): string {
  const paths = ruleFilePaths(dir, opts.ruleFiles?.length ?? 0);
  const ruleFiles = (opts.ruleFiles ?? []).map((rules, i) => {
    const file = paths[i] ?? '';
    writeFileSync(file, typeof rules === 'string' ? rules : stringify(rules));
    return file;
  });
  // one static_config per metrics path; a target's `job` label overrides the job name
  const byPath = new Map<string, ScrapeTarget[]>();
  for (const t of opts.targets) {
    const key = t.metricsPath ?? '/metrics';
    byPath.set(key, [...(byPath.get(key) ?? []), t]);
  }
  const config = {
    global: { scrape_interval: opts.scrapeInterval ?? '1s', scrape_timeout: '1s', evaluation_interval: opts.evaluationInterval ?? '1s' },
    rule_files: ruleFiles,
    scrape_configs: [...byPath].map(([metricsPath, targets], i) => ({
      job_name: `targets-${String(i)}`,
      metrics_path: metricsPath,
      static_configs: targets.map((t) => ({ targets: [t.address], labels: t.labels ?? {} })),
    })),
  };
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  return configFile;
}

const OUTPUT_LINES = 200;

export class PrometheusServer {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** The temp dir with the config, rule files and TSDB. */
  readonly dir: string;
  /** Where each of `ruleFiles` was written, in order: the `file` of its groups in `rules()`. */
  readonly ruleFiles: readonly string[];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #lines: string[] = [];
  #exitCode: number | null | undefined;
  #stopped: Promise<void> | undefined;

  constructor(binary: string, dir: string, configFile: string, port: number, ruleFiles: readonly string[]) {
    this.dir = dir;
    this.ruleFiles = ruleFiles;
    this.port = port;
    this.url = `http://127.0.0.1:${String(port)}`;
    this.#child = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${String(port)}`,
        '--log.level=info',
      ],
      { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(this);
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.#lines.push(line);
        if (this.#lines.length > OUTPUT_LINES) this.#lines.shift();
      });
    }
    this.#exited = new Promise((resolve) => {
      this.#child.once('error', (error) => {
        this.#lines.push(`[harness] ${error.message}`);
        this.#exitCode = null;
        running.delete(this);
        resolve();
      });
      this.#child.once('close', (code) => {
        this.#exitCode = code;
        running.delete(this);
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Prometheus's log (the last 200 lines). */
  output(): string {
    return this.#lines.join('\n');
  }

  /** Resolves once `/-/ready` answers 200; rejects with the log if the process exits first. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exitCode !== undefined) throw new Error(`prometheus exited (code ${String(this.#exitCode)}) before it was ready:\n${this.output()}`);
      try {
        const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() >= deadline) throw new Error(`prometheus was not ready within ${String(timeoutMs)} ms:\n${this.output()}`);
      await sleep(50);
    }
  }

  /** An instant query (`/api/v1/query`); rejects with PrometheusApiError when Prometheus refuses it. */
  async query(expr: string, time?: Date): Promise<QueryResult> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time.getTime() / 1000));
    return this.#queryApi('query', params, `query ${expr}`);
  }

  /** A range query (`/api/v1/query_range`); `step` in seconds. */
  async queryRange(expr: string, range: { start: Date; end: Date; step: number }): Promise<QueryResult> {
    const params = new URLSearchParams({
      query: expr,
      start: String(range.start.getTime() / 1000),
      end: String(range.end.getTime() / 1000),
      step: String(range.step),
    });
    return this.#queryApi('query_range', params, `query_range ${expr}`);
  }

  /** Values of label `name` on the series matching `match` (`/api/v1/label/<name>/values`, as Grafana's label_values()). */
  async labelValues(name: string, match?: string): Promise<string[]> {
    const query = match === undefined ? '' : `?${new URLSearchParams({ 'match[]': match }).toString()}`;
    return this.#api<string[]>(`label/${encodeURIComponent(name)}/values${query}`);
  }

  /** Active (pending and firing) alerts. */
  async alerts(): Promise<Alert[]> {
    return (await this.#api<{ alerts: Alert[] }>('alerts')).alerts;
  }

  /** Loaded rule groups with each rule's health, last error and state. */
  async rules(): Promise<RuleGroup[]> {
    return (await this.#api<{ groups: RuleGroup[] }>('rules')).groups;
  }

  async targets(): Promise<ActiveTarget[]> {
    return (await this.#api<{ activeTargets: ActiveTarget[] }>('targets?state=active')).activeTargets;
  }

  /**
   * Polls `probe` every 250 ms until it returns something truthy, and resolves with it; rejects
   * after `timeoutMs` naming `what` (and the last value seen, or the last error).
   */
  async waitFor<T>(probe: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined && value !== null && value !== false && value !== 0 && value !== '') return value;
        last = value;
      } catch (error) {
        last = error instanceof Error ? error.message : error;
      }
      if (Date.now() >= deadline) throw new Error(`Timed out after ${String(timeoutMs)} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
      await sleep(250);
    }
  }

  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. Idempotent. */
  stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    this.#stopped ??= (async () => {
      if (this.#exitCode === undefined) {
        this.#child.kill('SIGTERM');
        const timer = setTimeout(() => this.kill(), 5000);
        await this.#exited;
        clearTimeout(timer);
      }
    })();
    return this.#stopped.then(() => {
      if (opts.keepDir !== true) rmSync(this.dir, { recursive: true, force: true });
    });
  }

  /** SIGKILL now (synchronous; for the exit hook). */
  kill(): void {
    if (this.#exitCode === undefined) this.#child.kill('SIGKILL');
  }

  async #queryApi(endpoint: string, params: URLSearchParams, what: string): Promise<QueryResult> {
    const res = await fetch(`${this.url}/api/v1/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    });
    const body = await this.#body<QueryData>(res, what);
    return { data: body.data, warnings: body.warnings ?? [] };
  }

  async #api<T>(endpoint: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${endpoint}`);
    return (await this.#body<T>(res, endpoint)).data;
  }

  async #body<T>(res: Response, what: string): Promise<{ data: T; warnings?: string[] }> {
    const text = await res.text();
    let body: { status?: string; data?: T; errorType?: string; error?: string; warnings?: string[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new PrometheusApiError(what, res.status, 'not_json', text.slice(0, 500));
    }
    if (body.status !== 'success' || body.data === undefined) {
      throw new PrometheusApiError(what, res.status, body.errorType ?? 'unknown', body.error ?? text.slice(0, 500));
    }
    return { data: body.data, ...(body.warnings === undefined ? {} : { warnings: body.warnings }) };
  }
}

/** What a promtool check said. */
export interface PromtoolFindings {
  /** promtool's exit code: 0 when it found nothing. */
  exitCode: number | null;
  /** What it printed, one a line (stdout, then stderr; empty lines dropped): the findings. */
  lines: string[];
  stdout: string;
  stderr: string;
}

/** `promtool check metrics` on a text exposition (from stdin): the lint findings. */
export function checkMetrics(text: string): Promise<PromtoolFindings> {
  return promtool(['check', 'metrics'], text);
}

/** `promtool check rules <file>` on a rule file's YAML (written to a temp file). */
export async function checkRules(rules: RuleFile): Promise<PromtoolFindings> {
  const dir = mkdtempSync(path.join(tmpdir(), 'promtool-test-'));
  try {
    const file = path.join(dir, 'rules.yml');
    writeFileSync(file, typeof rules === 'string' ? rules : stringify(rules));
    return await promtool(['check', 'rules', file], undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function promtool(args: string[], stdin: string | undefined): Promise<PromtoolFindings> {
  const binary = prometheusBinary('promtool');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      const lines = `${stdout}\n${stderr}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
      resolve({ exitCode, lines, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}
