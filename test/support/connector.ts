/**
 * Runs the real built connector (`dist/main.js`) as a child process and collects its output.
 * The child gets only PATH plus the given env, so each test fully controls the configuration.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export type LogLine = Record<string, unknown>;
export type LogPredicate = (line: LogLine) => boolean;

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface StartOptions {
  args?: string[];
  /** Script to run instead of `dist/main.js` (for testing this harness). */
  entry?: string;
  /** node flags before the script (e.g. the image's, from test/support/image.ts). */
  nodeArgs?: string[];
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const CONNECTOR_ENTRY = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const TAIL_LINES = 30;

const running = new Set<ConnectorProcess>();
/** Every connector started since the last `takeStartedConnectors()`, running or not (for output checks). */
const started: ConnectorProcess[] = [];

/** Hands over (and forgets) every connector started since the last call. */
export function takeStartedConnectors(): ConnectorProcess[] {
  return started.splice(0);
}

export async function startConnector(env: Record<string, string>, opts: StartOptions = {}): Promise<ConnectorProcess> {
  const child = await spawnNode(opts.entry ?? CONNECTOR_ENTRY, opts.args ?? [], env, opts.nodeArgs);
  return new ConnectorProcess(child);
}

/** Runs a short command (e.g. `--version`) to completion; SIGKILLs it and rejects after `timeoutMs`. */
export async function runConnector(
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 10_000,
  opts: Pick<StartOptions, 'entry'> = {},
): Promise<RunResult> {
  const connector = await startConnector(env, { ...opts, args });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    connector.signal('SIGKILL');
  }, timeoutMs);
  const { code } = await connector.exited.finally(() => clearTimeout(timer));
  if (timedOut) throw new Error(`connector ${args.join(' ')} did not finish within ${timeoutMs} ms\n${connector.tail()}`);
  return { code, stdout: connector.stdout, stderr: connector.stderr };
}

/** Stops every connector still running; for `afterEach`. */
export async function stopAllConnectors(): Promise<void> {
  await Promise.all([...running].map((connector) => connector.stop()));
}

/** Matches a log line by its `msg` and (optionally) some field values. */
export function logMatching(msg: string, fields: Record<string, unknown> = {}): LogPredicate {
  return (line) => line['msg'] === msg && Object.entries(fields).every(([key, value]) => line[key] === value);
}

interface LogWaiter {
  predicate: LogPredicate;
  resolve: (line: LogLine) => void;
}

export class ConnectorProcess {
  /** Every stdout and stderr line, in arrival order. */
  readonly lines: string[] = [];
  /** stdout lines that are JSON objects. */
  readonly logs: LogLine[] = [];
  /** Resolves when the process has exited and its output is fully read. */
  readonly exited: Promise<ExitStatus>;

  readonly #child: ChildProcess;
  readonly #waiters = new Set<LogWaiter>();
  #exitStatus: ExitStatus | undefined;
  #stdout = '';
  #stderr = '';

  /** Wraps an already spawned child; use `startConnector()`. */
  constructor(child: ChildProcess) {
    this.#child = child;
    running.add(this);
    started.push(this);
    child.on('error', (error) => this.lines.push(`[harness] ${error.message}`));
    this.#collect(child.stdout, (line) => {
      this.#stdout += `${line}\n`;
      this.#onLog(line);
    });
    this.#collect(child.stderr, (line) => {
      this.#stderr += `${line}\n`;
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.#exitStatus = { code, signal };
        running.delete(this);
        resolve(this.#exitStatus);
      });
    });
  }

  /** All stdout received so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** All stderr received so far. */
  get stderr(): string {
    return this.#stderr;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves with the first matching log line (already received or future). */
  waitForLog(predicate: LogPredicate, timeoutMs = 10_000, what = 'a matching log line'): Promise<LogLine> {
    const seen = this.logs.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (reason: string): void => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${reason} waiting for ${what}\n--- last ${TAIL_LINES} lines ---\n${this.tail()}`));
      };
      const waiter: LogWaiter = {
        predicate,
        resolve: (line) => {
          this.#waiters.delete(waiter);
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => fail(`Timed out after ${timeoutMs} ms`), timeoutMs);
      this.#waiters.add(waiter);
      this.exited
        .then(({ code, signal }) => {
          if (this.#waiters.has(waiter)) fail(`Connector exited (code ${code}, signal ${signal})`);
        })
        .catch(fail);
    });
  }

  countLogs(predicate: LogPredicate): number {
    return this.logs.filter(predicate).length;
  }

  /** Sends a signal; a no-op once the process has exited. */
  signal(sig: NodeJS.Signals): void {
    if (this.#exitStatus === undefined) this.#child.kill(sig);
  }

  /** Sends `sig` and waits for exit; SIGKILLs after `timeoutMs`. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitStatus> {
    if (this.#exitStatus !== undefined) return this.#exitStatus;
    this.signal(sig);
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines of output, for error messages. */
  tail(count = TAIL_LINES): string {
    return this.lines.slice(-count).join('\n');
  }

  #collect(stream: Readable | null, onLine: (line: string) => void): void {
    if (stream === null) return;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      this.lines.push(line);
      onLine(line);
    });
  }

  #onLog(line: string): void {
    const log = parseLogLine(line);
    if (log === undefined) return;
    this.logs.push(log);
    for (const waiter of [...this.#waiters]) {
      if (waiter.predicate(log)) waiter.resolve(log);
    }
  }
}

/** Spawns `node <entry> ...args`; resolves once the process is running. */
function spawnNode(entry: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Promise<ChildProcess> {
  if (!existsSync(entry)) return Promise.reject(new Error(`${entry} does not exist; run \`npm run build\` first`));
  const inherited = process.env['PATH'] === undefined ? {} : { PATH: process.env['PATH'] };
  const child = spawn(process.execPath, [...nodeArgs, entry, ...args], {
    env: { log_encoding: 'json', ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => {
      child.off('error', reject);
      resolve(child);
    });
    child.once('error', reject);
  });
}

function parseLogLine(line: string): LogLine | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}
