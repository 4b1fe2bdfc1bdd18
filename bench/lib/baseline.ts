/**
 * Starts a baseline in its own process: bench/naive-baseline.ts (one croner job + fetch per
 * function) or bench/bare-client.ts (one undici Pool that only sends each slot's POSTs).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Baseline = 'naive' | 'bare';

const ENTRY: Readonly<Record<Baseline, string>> = {
  naive: fileURLToPath(new URL('../naive-baseline.ts', import.meta.url)),
  bare: fileURLToPath(new URL('../bare-client.ts', import.meta.url)),
};

export class BaselineRun {
  readonly pid: number;
  readonly readyAt: number;
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess, readyAt: number) {
    this.child = child;
    this.pid = child.pid ?? 0;
    this.readyAt = readyAt;
  }

  static async start(kind: Baseline, url: string, functions: ReadonlyArray<{ path: string; expr: string }>, periodMs: number): Promise<BaselineRun> {
    const child = fork(ENTRY[kind], [], {
      execPath: process.execPath,
      // BENCH_BASELINE_NODE_ARGS adds node flags to a baseline, e.g. to profile it as BENCH_NODE_ARGS does the connector
      execArgv: (process.env['BENCH_BASELINE_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { PATH: process.env['PATH'] ?? '' },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} baseline did not start within 60 s`)), 60_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${kind} baseline exited (${code})`));
      });
      if (kind === 'naive') {
        const marked = functions.map((f) => ({ path: `${f.path}?via=naive`, expr: f.expr }));
        child.send({ cmd: 'start', config: { url, functions: marked, periodMs } });
      } else {
        child.send({ cmd: 'start', config: { url, paths: functions.map((f) => f.path), periodMs } });
      }
    });
    return new BaselineRun(child, Date.now());
  }

  /** Stops every job and the process; returns how many fetches succeeded and failed. */
  async stop(): Promise<{ ok: number; failed: number }> {
    if (this.child.exitCode !== null) return { ok: Number.NaN, failed: Number.NaN };
    const stats = new Promise<{ ok: number; failed: number }>((resolve) => {
      this.child.once('message', (m: { ok: number; failed: number }) => resolve(m));
      this.child.once('exit', () => resolve({ ok: Number.NaN, failed: Number.NaN }));
    });
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const result = await stats;
    await exited;
    clearTimeout(timer);
    return result;
  }
}
