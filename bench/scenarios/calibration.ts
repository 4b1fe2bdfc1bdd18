/**
 * Calibration: what this machine allows, measured in the same run with a lean undici client in
 * its own process (bench/lean-client.ts) against the same gateway, with nothing else running.
 * - ceiling: the most invocations per second it can carry with one HTTP request each (64 and
 *   256 connections), and the CPU one request costs the client and the gateway. N invocations
 *   on one slot cannot all arrive sooner than N ÷ ceiling after the slot.
 * - floor: the lateness of one function per slot with a plain setTimeout wake-up (what a timer
 *   heap gives) and with a timer armed 3 ms early plus a spin and a connection warmed before
 *   the slot (the best a single-function scheduler gets here).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchGateway } from '../lib/gateway.ts';
import { cpuPercent, sample } from '../lib/proc.ts';
import { distribution, type Distribution } from '../lib/stats.ts';

const ENTRY = fileURLToPath(new URL('../lean-client.ts', import.meta.url));

export interface CeilingFigures {
  readonly connections: number;
  readonly requests: number;
  readonly rate: number;
  readonly clientCpuUsPerRequest: number;
  readonly gatewayCpuUsPerRequest: number;
  readonly gatewayCpuPct: number;
}

export interface FloorFigures {
  readonly wake: 'setTimeout' | 'spin + warm connection';
  readonly timer: Distribution;
  readonly arrival: Distribution;
  readonly early: number;
}

export interface CalibrationResult {
  readonly ceiling: readonly CeilingFigures[];
  readonly floor: readonly FloorFigures[];
}

function call<R>(message: Record<string, unknown>): Promise<R> {
  const child = fork(ENTRY, [], { execPath: process.execPath, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { PATH: process.env['PATH'] ?? '' } });
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('lean client timed out'));
    }, 120_000);
    child.once('message', (m: { ok: boolean; result?: R; error?: string }) => {
      clearTimeout(timer);
      child.disconnect();
      if (m.ok) resolve(m.result as R);
      else reject(new Error(m.error));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lean client exited (${code})`));
    });
    child.send(message);
  });
}

export async function runCalibration(
  gw: BenchGateway,
  opts: { requests: number; floorSlots: number; log: (line: string) => void },
): Promise<CalibrationResult> {
  await gw.setPopulation({ groups: [] });
  await gw.takeInvocations();
  const ceiling: CeilingFigures[] = [];
  for (const connections of [64, 256]) {
    const g0 = sample(gw.pid);
    const r = await call<{ rate: number; cpuUsPerRequest: number }>({ mode: 'ceiling', url: gw.url, n: opts.requests, connections });
    const g1 = sample(gw.pid);
    const records = await gw.takeInvocations();
    const gwCpuMs = g0 !== undefined && g1 !== undefined ? g1.cpuMs - g0.cpuMs : Number.NaN;
    ceiling.push({
      connections,
      requests: records.total,
      rate: r.rate,
      clientCpuUsPerRequest: r.cpuUsPerRequest,
      gatewayCpuUsPerRequest: (gwCpuMs * 1000) / Math.max(1, records.total),
      gatewayCpuPct: g0 !== undefined && g1 !== undefined ? cpuPercent(g0, g1) : Number.NaN,
    });
    opts.log(`calibration ceiling, ${connections} connections: ${Math.round(r.rate)}/s`);
  }
  const floor: FloorFigures[] = [];
  for (const spin of [false, true]) {
    await gw.anchor();
    const path = spin ? '/function/spin.calibration' : '/function/timer.calibration';
    const r = await call<{ timerLateMs: number[] }>({ mode: 'floor', url: gw.url, slots: opts.floorSlots, spin, path });
    const records = await gw.takeInvocations();
    const lateness = records.path.flatMap((p, i) => (p === path ? [(records.at[i] as number) - (records.nominal[i] as number)] : []));
    const f: FloorFigures = { wake: spin ? 'spin + warm connection' : 'setTimeout', timer: distribution(r.timerLateMs), arrival: distribution(lateness), early: records.early };
    floor.push(f);
    opts.log(`calibration floor (${f.wake}): arrival p50 ${f.arrival.p50.toFixed(2)} ms, p99 ${f.arrival.p99.toFixed(2)} ms`);
  }
  return { ceiling, floor };
}
