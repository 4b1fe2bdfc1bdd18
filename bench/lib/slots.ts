/**
 * One measured run of "N functions on one slot": load the population into the gateway, start the
 * connector (or a baseline), wait until it is ready, then measure the next `slots` slots
 * (the first one at least 300 ms after readiness, so every function is scheduled for it), and
 * stop it. Lateness = arrival at the gateway (high-resolution clock) − X-Cron-Scheduled-Time.
 */
import { ConnectorRun, connectorEnv } from './connector.ts';
import type { BenchGateway } from './gateway.ts';
import { BaselineRun } from './baseline.ts';
import { cpuPercent, sample, Sampler, type ProcSample } from './proc.ts';
import type { InvocationRecords } from './protocol.ts';
import { distribution, type Distribution } from './stats.ts';

/** connector: the built connector; bare: bench/bare-client.ts (the floor); naive: bench/naive-baseline.ts. */
export type Impl = 'connector' | 'bare' | 'naive';

export interface SlotRunOptions {
  readonly n: number;
  readonly expr: string;
  readonly periodMs: number;
  readonly slots: number;
  /** Extra connector environment. */
  readonly env?: Record<string, string>;
  /** Namespaces to spread the functions over (default 1). */
  readonly namespaces?: number;
}

export interface SlotStats {
  readonly nominal: number;
  readonly arrived: number;
  readonly distinct: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Last arrival − first arrival, ms. */
  readonly spreadMs: number;
  /** Arrivals per second over the slot's burst (first to last arrival). */
  readonly burstRate: number;
}

export interface SlotRunResult {
  readonly impl: Impl;
  readonly n: number;
  readonly slots: number;
  readonly lateness: Distribution;
  /** Distinct (function, slot) pairs that arrived / (n × slots), percent. */
  readonly firedPct: number;
  /** Arrivals before the following slot, percent of n × slots. */
  readonly onTimePct: number;
  readonly duplicates: number;
  /** Arrivals whose Date.now() at the gateway was before their nominal time (any slot of the run). */
  readonly early: number;
  readonly minLatenessMs: number;
  readonly invocations: number;
  readonly perSlot: readonly SlotStats[];
  /** CPU of the measured process from just before the first slot to the end, percent of one core. */
  readonly cpuPct: number;
  /** CPU per invocation, µs (the same window). */
  readonly cpuUsPerInvocation: number;
  /** CPU of the gateway process over the same window, percent of one core (to show it is not the bottleneck). */
  readonly gatewayCpuPct: number;
  readonly peakRssMb: number;
  readonly logLines: number;
  readonly logBytes: number;
  readonly problems: readonly string[];
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function sleepUntil(t: number): Promise<void> {
  await sleep(t - Date.now());
}

/** Splits the functions over `namespaces` namespaces of the gateway population. */
async function loadPopulation(gw: BenchGateway, o: SlotRunOptions, impl: Impl): Promise<Array<{ path: string; expr: string }> | undefined> {
  const namespaces = Math.max(1, o.namespaces ?? 1);
  const per = Math.ceil(o.n / namespaces);
  const pop = await gw.setPopulation({
    groups: [{ nsPrefix: 'bench', namespaces, perNamespace: per, namePrefix: 'fn', schedule: { kind: 'fixed', expr: o.expr } }],
    returnList: impl !== 'connector',
  });
  if (pop.functions !== per * namespaces) throw new Error('population mismatch');
  return pop.list;
}

export async function slotRun(gw: BenchGateway, impl: Impl, o: SlotRunOptions): Promise<SlotRunResult> {
  const n = Math.ceil(o.n / Math.max(1, o.namespaces ?? 1)) * Math.max(1, o.namespaces ?? 1);
  const list = await loadPopulation(gw, o, impl);
  await gw.takeInvocations();
  await gw.anchor();
  let connector: ConnectorRun | undefined;
  let baseline: BaselineRun | undefined;
  let readyAt: number;
  if (impl === 'connector') {
    connector = await ConnectorRun.start(connectorEnv(gw, o.env));
    await connector.waitFor((l) => l.msg === 'Discovery complete', 120_000, 'the first discovery pass');
    readyAt = Date.now();
  } else {
    baseline = await BaselineRun.start(impl, gw.url, list ?? [], o.periodMs);
    readyAt = baseline.readyAt;
  }
  const pid = connector?.pid ?? baseline?.pid ?? 0;
  const sampler = new Sampler(pid, 500);
  const first = Math.ceil((readyAt + 300) / o.periodMs) * o.periodMs;
  const nominals = Array.from({ length: o.slots }, (_, k) => first + k * o.periodMs);
  const last = nominals[nominals.length - 1] as number;
  let before: ProcSample | undefined;
  let after: ProcSample | undefined;
  let gwBefore: ProcSample | undefined;
  let gwAfter: ProcSample | undefined;
  try {
    await sleepUntil(first - 100);
    before = sample(pid);
    gwBefore = sample(gw.pid);
    await sleepUntil(last + 50);
    // Wait for the last slot to be complete (bounded), then read the CPU.
    const deadline = last + Math.max(3 * o.periodMs, 15_000);
    while (Date.now() < deadline && connector?.running !== false && (await gw.count(last)).slot < n) await sleep(50);
    after = sample(pid);
    gwAfter = sample(gw.pid);
  } finally {
    sampler.stop();
    if (connector !== undefined) await connector.stop();
    if (baseline !== undefined) await baseline.stop();
  }
  const records = await gw.takeInvocations();
  const result = analyse(impl, n, nominals, o.periodMs, records);
  const cpuMs = before !== undefined && after !== undefined ? after.cpuMs - before.cpuMs : Number.NaN;
  return {
    ...result,
    cpuPct: before !== undefined && after !== undefined ? cpuPercent(before, after) : Number.NaN,
    cpuUsPerInvocation: (cpuMs * 1000) / Math.max(1, result.invocations),
    gatewayCpuPct: gwBefore !== undefined && gwAfter !== undefined ? cpuPercent(gwBefore, gwAfter) : Number.NaN,
    peakRssMb: sampler.peakRssMb,
    logLines: connector?.lines ?? 0,
    logBytes: connector?.bytes ?? 0,
    problems: [
      ...(connector?.crash === undefined ? [] : [`connector ${connector.crash}`]),
      ...(connector?.problems() ?? []).slice(0, 5).map((p) => `${String(p['msg'])} ${JSON.stringify(p).slice(0, 200)}`),
    ],
  };
}

type Analysed = Omit<SlotRunResult, 'cpuPct' | 'cpuUsPerInvocation' | 'gatewayCpuPct' | 'peakRssMb' | 'logLines' | 'logBytes' | 'problems'>;

export function analyse(impl: Impl, n: number, nominals: readonly number[], periodMs: number, r: InvocationRecords): Analysed {
  const wanted = new Set(nominals);
  const lateness: number[] = [];
  const seen = new Set<string>();
  const bySlot = new Map<number, { late: number[]; first: number; last: number; names: Set<string> }>();
  let duplicates = 0;
  let onTime = 0;
  let minLateness = Number.POSITIVE_INFINITY;
  for (let i = 0; i < r.at.length; i++) {
    const nominal = r.nominal[i] as number;
    if (!wanted.has(nominal) || (r.attempt[i] ?? 1) > 1) continue;
    const at = r.at[i] as number;
    const path = r.path[i] as string;
    const late = at - nominal;
    lateness.push(late);
    if (late < minLateness) minLateness = late;
    if (late < periodMs) onTime++;
    const key = `${nominal}|${path}`;
    if (seen.has(key)) duplicates++;
    seen.add(key);
    let s = bySlot.get(nominal);
    if (s === undefined) {
      s = { late: [], first: at, last: at, names: new Set() };
      bySlot.set(nominal, s);
    }
    s.late.push(late);
    s.names.add(path);
    if (at < s.first) s.first = at;
    if (at > s.last) s.last = at;
  }
  const perSlot: SlotStats[] = nominals.map((nominal) => {
    const s = bySlot.get(nominal);
    if (s === undefined) return { nominal, arrived: 0, distinct: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, spreadMs: Number.NaN, burstRate: Number.NaN };
    const d = distribution(s.late);
    const spread = s.last - s.first;
    return { nominal, arrived: s.late.length, distinct: s.names.size, p50: d.p50, p99: d.p99, max: d.max, spreadMs: spread, burstRate: spread > 0 ? (s.late.length / spread) * 1000 : Number.NaN };
  });
  const expected = n * nominals.length;
  return {
    impl,
    n,
    slots: nominals.length,
    lateness: distribution(lateness),
    firedPct: (seen.size / expected) * 100,
    onTimePct: (onTime / expected) * 100,
    duplicates,
    early: impl === 'naive' ? r.naiveEarly : impl === 'bare' ? r.bareEarly : r.early,
    minLatenessMs: minLateness,
    invocations: impl === 'naive' ? r.naiveTotal : impl === 'bare' ? r.bareTotal : r.total,
    perSlot,
  };
}
