/**
 * Idle CPU and RSS: 10,000 functions on minute slots (`* * * * *`, all on the same slot, over 10
 * namespaces), the default rebuild_interval (30s, so discovery passes are part of the idle cost).
 * After the first slot has fired, CPU is read from /proc between slot + 15 s and the next slot
 * − 2 s (43 s). The naive baseline (10,000 croner jobs) is measured the same way afterwards, in
 * a later minute, never alongside the connector. One run each (each needs a full minute); the
 * smoke run measures a short window right after start-up instead.
 */
import { ConnectorRun, connectorEnv } from '../lib/connector.ts';
import type { BenchGateway } from '../lib/gateway.ts';
import { BaselineRun } from '../lib/baseline.ts';
import { cpuPercent, sample, type ProcSample } from '../lib/proc.ts';
import { sleepUntil } from '../lib/slots.ts';

export interface IdleConfig {
  readonly n: number;
  /** Wait for a minute slot to fire and measure until the next one (full run); else measure `windowMs` at once. */
  readonly aligned: boolean;
  readonly windowMs: number;
  readonly baseline: boolean;
}

export const FULL_IDLE: IdleConfig = { n: 10_000, aligned: true, windowMs: 43_000, baseline: true };
export const SMOKE_IDLE: IdleConfig = { n: 10, aligned: false, windowMs: 1000, baseline: true };

export interface IdleFigures {
  readonly cpuPct: number;
  readonly cpuMs: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

export interface IdleResult {
  readonly config: IdleConfig;
  readonly windowStart: string;
  readonly windowMs: number;
  readonly connector: IdleFigures;
  readonly naive: IdleFigures | undefined;
  /** Discovery passes the connector ran inside the window. */
  readonly passesInWindow: number;
  /** Invocations of the slot before the window (all functions should have fired). */
  readonly slotInvocations: number;
  readonly early: number;
  readonly invocations: number;
  readonly naiveEarly: number;
  readonly naiveInvocations: number;
}

function figures(a: ProcSample | undefined, b: ProcSample | undefined): IdleFigures {
  if (a === undefined || b === undefined) return { cpuPct: Number.NaN, cpuMs: Number.NaN, rssMb: Number.NaN, peakRssMb: Number.NaN };
  return { cpuPct: cpuPercent(a, b), cpuMs: b.cpuMs - a.cpuMs, rssMb: b.rssMb, peakRssMb: b.hwmMb };
}

/** The measurement window for a process ready at `ready`: after its first minute slot, or at once (smoke). */
function windowFor(c: IdleConfig, ready: number): { start: number; end: number } {
  const start = c.aligned ? Math.ceil((ready + 1000) / 60_000) * 60_000 + 15_000 : ready + 500;
  return { start, end: start + c.windowMs };
}

async function measure(pid: number, w: { start: number; end: number }): Promise<IdleFigures> {
  await sleepUntil(w.start);
  const a = sample(pid);
  await sleepUntil(w.end);
  return figures(a, sample(pid));
}

export async function runIdle(gw: BenchGateway, c: IdleConfig, log: (line: string) => void): Promise<IdleResult> {
  const namespaces = c.n >= 1000 ? 10 : 1;
  const pop = await gw.setPopulation({
    groups: [{ nsPrefix: 'idle', namespaces, perNamespace: Math.ceil(c.n / namespaces), namePrefix: 'tick', schedule: { kind: 'fixed', expr: '* * * * *' } }],
    returnList: c.baseline,
  });
  await gw.takeInvocations();
  // The connector first, then the naive baseline in a later minute: never both at once.
  const connector = await ConnectorRun.start(connectorEnv(gw, { debug: 'true' }));
  let result: Omit<IdleResult, 'naive' | 'naiveEarly' | 'naiveInvocations'>;
  try {
    await connector.waitFor((l) => l.msg === 'Discovery complete', 120_000, 'the first discovery pass');
    const w = windowFor(c, Date.now());
    log(`idle: measuring the connector for ${c.windowMs / 1000} s from ${new Date(w.start).toISOString()}`);
    const passesBefore = (): number => connector.byMsg('Discovery complete').filter((l) => Date.parse(String(l['time'])) < w.start).length;
    const figuresConnector = await measure(connector.pid, w);
    const passesInWindow = connector.byMsg('Discovery complete').length - passesBefore();
    const records = await gw.takeInvocations();
    result = {
      config: c,
      windowStart: new Date(w.start).toISOString(),
      windowMs: c.windowMs,
      connector: figuresConnector,
      passesInWindow,
      slotInvocations: records.total,
      early: records.early,
      invocations: records.total,
    };
  } finally {
    await connector.stop();
  }
  let naiveFigures: IdleFigures | undefined;
  let naiveEarly = 0;
  let naiveInvocations = 0;
  if (c.baseline) {
    const naive = await BaselineRun.start('naive', gw.url, pop.list ?? [], 60_000);
    try {
      const w = windowFor(c, naive.readyAt);
      log(`idle: measuring the naive baseline for ${c.windowMs / 1000} s from ${new Date(w.start).toISOString()}`);
      naiveFigures = await measure(naive.pid, w);
    } finally {
      await naive.stop();
    }
    const records = await gw.takeInvocations();
    naiveEarly = records.naiveEarly;
    naiveInvocations = records.naiveTotal;
  }
  log(
    `idle: connector CPU ${result.connector.cpuPct.toFixed(2)}% (${result.connector.cpuMs} ms), RSS ${result.connector.rssMb.toFixed(0)} MB, ${result.passesInWindow} passes in the window; naive CPU ${naiveFigures?.cpuPct.toFixed(2) ?? '-'}%, RSS ${naiveFigures?.rssMb.toFixed(0) ?? '-'} MB`,
  );
  return { ...result, naive: naiveFigures, naiveEarly, naiveInvocations };
}
