/**
 * Dispatch throughput: N functions firing every second (`* * * * * *`) for several seconds, N
 * stepped up. For each step: the burst rate (arrivals per second between the first and the last
 * arrival of a slot), the share of invocations that arrived before the next slot, lateness, and
 * the process's CPU per invocation. The sustained throughput is the largest N/s whose every
 * invocation arrived within its second. One run per step (the slots of a run are the samples).
 */
import type { BenchGateway } from '../lib/gateway.ts';
import { slotRun, type SlotRunResult } from '../lib/slots.ts';
import { summarize, type Summary } from '../lib/stats.ts';

export interface ThroughputStep {
  readonly n: number;
  readonly connector: StepFigures;
  readonly naive: StepFigures | undefined;
}

export interface StepFigures {
  readonly burstRate: Summary;
  readonly onTimePct: number;
  readonly firedPct: number;
  readonly p99: number;
  readonly cpuPct: number;
  readonly cpuUsPerInvocation: number;
  readonly early: number;
  readonly run: SlotRunResult;
}

export interface ThroughputResult {
  readonly steps: readonly ThroughputStep[];
  /** Largest invocations/s with every invocation arriving before the next slot. */
  readonly sustained: { readonly connector: number; readonly naive: number | undefined };
}

export const FULL_STEPS = [250, 500, 1000, 2000, 4000] as const;
export const SMOKE_STEPS = [10] as const;

function stepFigures(run: SlotRunResult): StepFigures {
  return {
    burstRate: summarize(run.perSlot.map((s) => s.burstRate)),
    onTimePct: run.onTimePct,
    firedPct: run.firedPct,
    p99: run.lateness.p99,
    cpuPct: run.cpuPct,
    cpuUsPerInvocation: run.cpuUsPerInvocation,
    early: run.early,
    run,
  };
}

export async function runThroughput(
  gw: BenchGateway,
  opts: { steps: readonly number[]; slots: number; baseline: boolean; log: (line: string) => void },
): Promise<ThroughputResult> {
  const steps: ThroughputStep[] = [];
  for (const n of opts.steps) {
    const size = { n, expr: '* * * * * *', periodMs: 1000, slots: opts.slots };
    const connector = stepFigures(await slotRun(gw, 'connector', size));
    opts.log(`throughput ${n}/s connector: burst ${connector.burstRate.median.toFixed(0)}/s, on time ${connector.onTimePct.toFixed(1)}%, p99 ${connector.p99.toFixed(1)} ms, CPU ${connector.cpuPct.toFixed(0)}%`);
    let naive: StepFigures | undefined;
    if (opts.baseline) {
      naive = stepFigures(await slotRun(gw, 'naive', size));
      opts.log(`throughput ${n}/s naive: burst ${naive.burstRate.median.toFixed(0)}/s, on time ${naive.onTimePct.toFixed(1)}%, p99 ${naive.p99.toFixed(1)} ms, CPU ${naive.cpuPct.toFixed(0)}%`);
    }
    steps.push({ n, connector, naive });
  }
  const sustained = (pick: (s: ThroughputStep) => StepFigures | undefined): number =>
    Math.max(0, ...steps.filter((s) => (pick(s)?.onTimePct ?? 0) >= 100).map((s) => s.n));
  return { steps, sustained: { connector: sustained((s) => s.connector), naive: opts.baseline ? sustained((s) => s.naive) : undefined } };
}
