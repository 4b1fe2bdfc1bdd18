/**
 * Lateness at 1 / 100 / 1,000 / 10,000 functions on one slot: p50, p99, max and fired %, for the
 * connector, the bare client (bench/bare-client.ts: one undici Pool that only sends each slot's
 * POSTs, the floor the connector is held to) and the naive baseline (one croner job + fetch per
 * function), in the same run, alternating run by run.
 * One run = one fresh process measuring `slots` consecutive slots (the first slot after start-up
 * included); each figure is the median over runs, with min and max.
 */
import type { BenchGateway } from '../lib/gateway.ts';
import { slotRun, type Impl, type SlotRunResult } from '../lib/slots.ts';
import { summarize, type Summary } from '../lib/stats.ts';

export interface LatenessSize {
  readonly n: number;
  readonly expr: string;
  readonly periodMs: number;
  readonly slots: number;
}

export interface ImplFigures {
  readonly p50: Summary;
  readonly p99: Summary;
  readonly max: Summary;
  readonly firedPct: Summary;
  readonly peakRssMb: Summary;
  readonly cpuUsPerInvocation: Summary;
  /** Median over runs of the slots' burst rate (arrivals per second, first to last arrival); NaN for 1 function. */
  readonly burstRate: Summary;
  readonly early: number;
  readonly duplicates: number;
  readonly runs: readonly SlotRunResult[];
}

export interface LatenessResult {
  readonly size: LatenessSize;
  readonly connector: ImplFigures;
  readonly bare: ImplFigures | undefined;
  readonly naive: ImplFigures | undefined;
}

export const FULL_SIZES: readonly LatenessSize[] = [
  { n: 1, expr: '* * * * * *', periodMs: 1000, slots: 15 },
  { n: 100, expr: '* * * * * *', periodMs: 1000, slots: 5 },
  { n: 1000, expr: '* * * * * *', periodMs: 1000, slots: 5 },
  { n: 10_000, expr: '*/10 * * * * *', periodMs: 10_000, slots: 3 },
];

export const SMOKE_SIZES: readonly LatenessSize[] = [{ n: 10, expr: '* * * * * *', periodMs: 1000, slots: 1 }];

function medianOf(values: readonly number[]): number {
  return summarize(values).median;
}

export function figures(runs: readonly SlotRunResult[]): ImplFigures {
  return {
    p50: summarize(runs.map((r) => r.lateness.p50)),
    p99: summarize(runs.map((r) => r.lateness.p99)),
    max: summarize(runs.map((r) => r.lateness.max)),
    firedPct: summarize(runs.map((r) => r.firedPct)),
    peakRssMb: summarize(runs.map((r) => r.peakRssMb)),
    cpuUsPerInvocation: summarize(runs.map((r) => r.cpuUsPerInvocation)),
    burstRate: summarize(runs.map((r) => medianOf(r.perSlot.map((s) => s.burstRate)))),
    early: runs.reduce((n, r) => n + r.early, 0),
    duplicates: runs.reduce((n, r) => n + r.duplicates, 0),
    runs,
  };
}

export async function runLateness(
  gw: BenchGateway,
  opts: { sizes: readonly LatenessSize[]; runs: number; baseline: boolean; log: (line: string) => void },
): Promise<LatenessResult[]> {
  const out: LatenessResult[] = [];
  for (const size of opts.sizes) {
    const byImpl = new Map<Impl, SlotRunResult[]>();
    const impls: Impl[] = opts.baseline ? ['connector', 'bare', 'naive'] : ['connector', 'bare'];
    // Alternate the implementations run by run, so a slow phase of the machine hits both.
    for (let run = 0; run < opts.runs; run++) {
      for (const impl of impls) {
        const r = await slotRun(gw, impl, size);
        byImpl.set(impl, [...(byImpl.get(impl) ?? []), r]);
        opts.log(
          `lateness n=${size.n} ${impl} run ${run + 1}/${opts.runs}: p50 ${r.lateness.p50.toFixed(2)} ms, p99 ${r.lateness.p99.toFixed(2)} ms, max ${r.lateness.max.toFixed(2)} ms, fired ${r.firedPct.toFixed(1)}%, early ${r.early}`,
        );
      }
    }
    const naive = byImpl.get('naive');
    const bare = byImpl.get('bare');
    out.push({
      size,
      connector: figures(byImpl.get('connector') ?? []),
      bare: bare === undefined ? undefined : figures(bare),
      naive: naive === undefined ? undefined : figures(naive),
    });
  }
  return out;
}
