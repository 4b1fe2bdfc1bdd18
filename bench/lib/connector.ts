/**
 * Runs the real built connector (dist/main.js) as a child process against the bench gateway.
 * Its stdout (JSON logs, one line per event, thousands per second under load) is drained in
 * chunks: lines and bytes are counted, and only lines carrying a marker we care about
 * (Discovery complete, warnings, errors) are parsed, so the harness never throttles the child.
 *
 * BENCH_CONNECTOR overrides the entry point; BENCH_NODE_ARGS adds node flags to the child, e.g.
 * BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { imageNodeFlags } from '../../test/support/image.ts';
import { fileURLToPath } from 'node:url';
import type { BenchGateway } from './gateway.ts';

/**
 * The node flags the image starts the connector with, so the bench measures it as it runs in a
 * Pod; BENCH_IMAGE_FLAGS=0 leaves them out (to measure what they change).
 */
export const IMAGE_NODE_FLAGS: readonly string[] = process.env['BENCH_IMAGE_FLAGS'] === '0' ? [] : imageNodeFlags();

export const CONNECTOR_ENTRY = process.env['BENCH_CONNECTOR'] ?? fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const MARKERS = [
  'Discovery complete',
  '"level":"warn"',
  '"level":"error"',
  '"level":"fatal"',
  'Access token obtained',
  'Stopped',
  // leader election (the ha scenario); `Leadership lost` is a warning
  'Leadership acquired',
  'Following leader',
  'Lease released',
];

export type LogLine = Record<string, unknown> & { readonly msg?: string; /** Date.now() when the harness read it. */ readonly rx: number };

interface Waiter {
  readonly predicate: (l: LogLine) => boolean;
  readonly resolve: (l: LogLine) => void;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
}

/** Options every run shares (the spec's environment); `extra` adds or overrides variables. */
export function connectorEnv(gateway: BenchGateway, extra: Record<string, string> = {}): Record<string, string> {
  return {
    gateway_url: gateway.url,
    system_issuer: gateway.systemIssuer,
    token_mount_path: gateway.tokenDir,
    rebuild_interval: '30s',
    log_encoding: 'json',
    debug: 'false',
    http_port: '0',
    shutdown_timeout: '5s',
    ...extra,
  };
}

export class ConnectorRun {
  readonly pid: number;
  readonly startedAt = Date.now();
  /** Marker lines (parsed), in arrival order. */
  readonly events: LogLine[] = [];
  readonly stderr: string[] = [];
  lines = 0;
  bytes = 0;
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<Waiter>();
  private tail = '';
  private exit: ExitInfo | undefined;
  private stopping = false;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid ?? 0;
    child.stdout?.on('data', (chunk: Buffer) => this.onChunk(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (this.stderr.length < 200) this.stderr.push(text);
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        if (!this.stopping) {
          const err = this.stderr.join('');
          const fatal = /FATAL ERROR[^\n]*|Error[^\n]*/.exec(err)?.[0];
          this.crash = `exited by itself (${signal ?? `code ${code}`})${fatal === undefined ? '' : `: ${fatal.slice(0, 200)}`}`;
        }
        resolve(this.exit);
      });
    });
  }

  static async start(env: Record<string, string>): Promise<ConnectorRun> {
    if (!existsSync(CONNECTOR_ENTRY)) throw new Error(`${CONNECTOR_ENTRY} does not exist: run \`npm run build\` first`);
    const nodeArgs = [...IMAGE_NODE_FLAGS, ...(process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '')];
    const child = spawn(process.execPath, [...nodeArgs, CONNECTOR_ENTRY], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    return new ConnectorRun(child);
  }

  private onChunk(chunk: Buffer): void {
    this.bytes += chunk.length;
    let from = 0;
    for (let i = chunk.indexOf(10, from); i !== -1; i = chunk.indexOf(10, from)) {
      this.lines++;
      from = i + 1;
    }
    const text = this.tail + chunk.toString('utf8');
    const last = text.lastIndexOf('\n');
    if (last === -1) {
      this.tail = text.length > 1 << 20 ? '' : text;
      return;
    }
    this.tail = text.slice(last + 1);
    const complete = text.slice(0, last);
    if (!MARKERS.some((m) => complete.includes(m))) return;
    const rx = Date.now();
    for (const line of complete.split('\n')) {
      if (!MARKERS.some((m) => line.includes(m))) continue;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        const log = { ...parsed, rx } as LogLine;
        this.events.push(log);
        for (const w of [...this.waiters]) if (w.predicate(log)) w.resolve(log);
      } catch {
        // not a JSON log line
      }
    }
  }

  /** The first marker line matching `predicate` (seen or future); rejects after `timeoutMs` or on exit. */
  waitFor(predicate: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const seen = this.events.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (l) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last events: ${JSON.stringify(this.events.slice(-3))} ${this.stderr.join('').slice(-500)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      this.exited.then((e) => {
        if (!this.waiters.has(waiter)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        reject(new Error(`connector exited (${e.code ?? e.signal}) while waiting for ${what}: ${this.stderr.join('').slice(-1000)}`));
      }, reject);
    });
  }

  /** Marker lines with this message. */
  byMsg(msg: string): LogLine[] {
    return this.events.filter((e) => e.msg === msg);
  }

  /** How the process ended, when it exited by itself before stop(): code or signal and the last stderr. */
  crash: string | undefined;

  /** Warnings and errors the connector logged. */
  problems(): LogLine[] {
    return this.events.filter((e) => e['level'] === 'warn' || e['level'] === 'error' || e['level'] === 'fatal');
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** kill -9: no shutdown at all (a crash, an OOM kill, a lost node); resolves once it has exited. */
  async kill(): Promise<ExitInfo> {
    if (this.exit !== undefined) return this.exit;
    this.stopping = true;
    this.child.kill('SIGKILL');
    return await this.exited;
  }

  async stop(timeoutMs = 10_000): Promise<ExitInfo> {
    if (this.exit !== undefined) return this.exit;
    this.stopping = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Parses the connector's formatted durations ("280ms", "1.234s", "1m2.5s") into ms. */
export function parseLoggedDuration(text: unknown): number {
  if (typeof text !== 'string') return Number.NaN;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let matched = false;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    matched = true;
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
  }
  return matched ? total : Number.NaN;
}
