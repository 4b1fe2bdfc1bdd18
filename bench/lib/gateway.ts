/** Starts bench/gateway-server.ts in its own process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChurnSpec, InvocationRecords, PopulationSpec, SystemCall } from './protocol.ts';

const SERVER = fileURLToPath(new URL('../gateway-server.ts', import.meta.url));

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class BenchGateway {
  readonly url: string;
  readonly systemIssuer: string;
  readonly tokenDir: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(child: ChildProcess, ready: { url: string; systemIssuer: string; tokenDir: string }) {
    this.child = child;
    this.url = ready.url;
    this.systemIssuer = ready.systemIssuer;
    this.tokenDir = ready.tokenDir;
    this.pid = child.pid ?? 0;
    child.on('message', (msg: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      if (msg.ok === true) p.resolve(msg.result);
      else p.reject(new Error(`gateway: ${msg.error ?? 'failed'}`));
    });
    child.once('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`gateway exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  static async start(): Promise<BenchGateway> {
    const child = fork(SERVER, [], {
      execPath: process.execPath,
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { PATH: process.env['PATH'] ?? '' },
    });
    const ready = await new Promise<{ url: string; systemIssuer: string; tokenDir: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gateway did not start within 20 s')), 20_000);
      child.once('message', (msg: { ready?: boolean; url: string; systemIssuer: string; tokenDir: string }) => {
        clearTimeout(timer);
        if (msg.ready === true) resolve(msg);
        else reject(new Error('unexpected first message from the gateway'));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited during start-up (${code})`));
      });
    });
    return new BenchGateway(child, ready);
  }

  private call<R>(message: Record<string, unknown>): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, ...message });
    });
  }

  setPopulation(spec: PopulationSpec): Promise<{ functions: number; namespaces: number; list?: Array<{ path: string; expr: string }> }> {
    return this.call({ cmd: 'setPopulation', spec });
  }

  mutateOnPasses(fromPass: number, count: number): Promise<unknown> {
    return this.call({ cmd: 'mutateOnPasses', fromPass, count });
  }

  churn(spec: ChurnSpec): Promise<unknown> {
    return this.call({ cmd: 'churn', spec });
  }

  recordMode(full: boolean): Promise<unknown> {
    return this.call({ cmd: 'recordMode', full });
  }

  /** Invocations recorded so far, and first attempts recorded for the slot `nominal`. */
  count(nominal?: number): Promise<{ total: number; slot: number }> {
    return this.call({ cmd: 'count', ...(nominal === undefined ? {} : { nominal }) });
  }

  takeInvocations(): Promise<InvocationRecords> {
    return this.call({ cmd: 'takeInvocations' });
  }

  takeCalls(): Promise<SystemCall[]> {
    return this.call({ cmd: 'takeCalls' });
  }

  /** Largest drift of the arrival clock from Date.now() seen between two anchors, ms. */
  maxDriftMs = 0;

  /** Re-anchors the gateway's arrival clock to Date.now() (call while nothing is arriving). */
  async anchor(): Promise<void> {
    const { driftMs } = await this.call<{ driftMs: number }>({ cmd: 'anchor' });
    if (Math.abs(driftMs) > Math.abs(this.maxDriftMs)) this.maxDriftMs = driftMs;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
