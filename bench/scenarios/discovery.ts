/**
 * Discovery at scale: 100,000 functions over 1,000 namespaces (100 each, 1,440 distinct
 * expressions that stay quiet during the run). The connector runs with debug=true so every pass
 * logs `Discovery complete` (namespaces, functions, schedules, added, removed, duration). Passes:
 *   1      cold: every function is new
 *   2      unchanged: nothing may be added or removed
 *   3..    1% churn: before answering the pass's GET /system/namespaces, the gateway flips the
 *          schedule of 1,000 functions spread over every namespace (one per namespace), so the
 *          pass must remove and add exactly 1,000 schedules and touch nothing else.
 * The gateway counts the pass's API calls (/system/*; token exchanges separately); RSS is read
 * from /proc every 200 ms (peak = VmHWM).
 */
import { ConnectorRun, connectorEnv, parseLoggedDuration } from '../lib/connector.ts';
import type { BenchGateway } from '../lib/gateway.ts';
import { Sampler } from '../lib/proc.ts';
import type { SystemCall } from '../lib/protocol.ts';
import { sleep } from '../lib/slots.ts';
import { summarize, type Summary } from '../lib/stats.ts';

export interface DiscoveryConfig {
  readonly namespaces: number;
  readonly perNamespace: number;
  readonly churn: number;
  readonly passes: number;
  readonly rebuildInterval: string;
  readonly runs: number;
}

export const FULL_DISCOVERY: DiscoveryConfig = { namespaces: 1000, perNamespace: 100, churn: 1000, passes: 5, rebuildInterval: '5s', runs: 3 };
export const SMOKE_DISCOVERY: DiscoveryConfig = { namespaces: 5, perNamespace: 2, churn: 2, passes: 3, rebuildInterval: '1s', runs: 1 };

export type PassKind = 'cold' | 'unchanged' | 'churn';

export interface DiscoveryPass {
  readonly index: number;
  readonly kind: PassKind;
  readonly durationMs: number;
  readonly namespaces: number;
  readonly functions: number;
  readonly schedules: number;
  readonly added: number;
  readonly removed: number;
  readonly expectedAdded: number;
  readonly expectedRemoved: number;
  /** /system/namespaces + /system/functions calls attributed to this pass. */
  readonly apiCalls: number;
}

export interface DiscoveryRun {
  readonly passes: readonly DiscoveryPass[];
  /** Set when the connector exited by itself during the run (e.g. out of memory). */
  readonly crashed?: string;
  readonly peakRssMb: number;
  readonly rssAfterMb: number;
  readonly tokenCalls: number;
  readonly problems: readonly string[];
}

export interface DiscoveryResult {
  readonly config: DiscoveryConfig;
  readonly functions: number;
  readonly runs: readonly DiscoveryRun[];
  readonly coldMs: Summary;
  /** Median over runs of the run's slowest non-cold pass. */
  readonly steadyMaxMs: Summary;
  readonly unchangedMs: Summary;
  readonly churnMs: Summary;
  readonly peakRssMb: Summary;
  readonly maxApiCalls: number;
  readonly apiCallLimit: number;
  /** Every unchanged pass added and removed nothing. */
  readonly unchangedUntouched: boolean;
  /** Every churn pass added and removed exactly what changed. */
  readonly churnExact: boolean;
  /** The cold pass scheduled every function. */
  readonly coldComplete: boolean;
  /** Passes that did not complete in time (0 normally). */
  readonly missingPasses: number;
  /** Why runs ended early, if any did. */
  readonly crashes: readonly string[];
}

function kindOf(index: number): PassKind {
  return index === 1 ? 'cold' : index === 2 ? 'unchanged' : 'churn';
}

function callsPerPass(calls: readonly SystemCall[]): number[] {
  const out: number[] = [];
  for (const c of calls) {
    if (c.kind === 'namespaces') out.push(1);
    else if (c.kind === 'functions' && out.length > 0) out[out.length - 1] = (out[out.length - 1] as number) + 1;
  }
  return out;
}

async function discoveryRun(gw: BenchGateway, c: DiscoveryConfig): Promise<DiscoveryRun> {
  const total = c.namespaces * c.perNamespace;
  await gw.setPopulation({ groups: [{ nsPrefix: 'team', namespaces: c.namespaces, perNamespace: c.perNamespace, namePrefix: 'job', schedule: { kind: 'spread' } }] });
  await gw.mutateOnPasses(3, c.churn);
  await gw.takeCalls();
  const run = await ConnectorRun.start(connectorEnv(gw, { rebuild_interval: c.rebuildInterval, debug: 'true' }));
  const sampler = new Sampler(run.pid, 200);
  try {
    const deadline = Date.now() + 60_000 + c.passes * 30_000;
    while (run.running && run.byMsg('Discovery complete').length < c.passes && Date.now() < deadline) await sleep(100);
    // Stop before the next pass starts, so the call log holds exactly the passes measured.
    sampler.take();
  } finally {
    sampler.stop();
    await run.stop();
  }
  const calls = await gw.takeCalls();
  const perPass = callsPerPass(calls);
  const passes = run.byMsg('Discovery complete').slice(0, c.passes).map((l, i): DiscoveryPass => {
    const index = i + 1;
    const kind = kindOf(index);
    return {
      index,
      kind,
      durationMs: parseLoggedDuration(l['duration']),
      namespaces: Number(l['namespaces']),
      functions: Number(l['functions']),
      schedules: Number(l['schedules']),
      added: Number(l['added']),
      removed: Number(l['removed']),
      expectedAdded: kind === 'cold' ? total : kind === 'unchanged' ? 0 : Math.min(c.churn, total),
      expectedRemoved: kind === 'cold' || kind === 'unchanged' ? 0 : Math.min(c.churn, total),
      apiCalls: perPass[i] ?? Number.NaN,
    };
  });
  const last = sampler.samples[sampler.samples.length - 1];
  return {
    passes,
    ...(run.crash === undefined ? {} : { crashed: run.crash }),
    peakRssMb: sampler.peakRssMb,
    rssAfterMb: last?.rssMb ?? Number.NaN,
    tokenCalls: calls.filter((x) => x.kind === 'token').length,
    problems: run.problems().slice(0, 5).map((p) => JSON.stringify(p).slice(0, 240)),
  };
}

export async function runDiscovery(gw: BenchGateway, c: DiscoveryConfig, log: (line: string) => void): Promise<DiscoveryResult> {
  const runs: DiscoveryRun[] = [];
  for (let i = 0; i < c.runs; i++) {
    const r = await discoveryRun(gw, c);
    runs.push(r);
    log(
      `discovery run ${i + 1}/${c.runs}: ${r.crashed === undefined ? '' : `connector ${r.crashed}; `}${r.passes.map((p) => `${p.kind} ${p.durationMs.toFixed(0)} ms (+${p.added}/-${p.removed}, ${p.apiCalls} calls)`).join(', ')}; peak RSS ${r.peakRssMb.toFixed(0)} MB`,
    );
  }
  const all = runs.flatMap((r) => r.passes);
  const ofKind = (k: PassKind): number[] => runs.map((r) => Math.max(...r.passes.filter((p) => p.kind === k).map((p) => p.durationMs)));
  return {
    config: c,
    functions: c.namespaces * c.perNamespace,
    runs,
    coldMs: summarize(ofKind('cold')),
    steadyMaxMs: summarize(runs.map((r) => Math.max(...r.passes.filter((p) => p.kind !== 'cold').map((p) => p.durationMs)))),
    unchangedMs: summarize(ofKind('unchanged')),
    churnMs: summarize(ofKind('churn')),
    peakRssMb: summarize(runs.map((r) => r.peakRssMb)),
    maxApiCalls: all.length === 0 ? Number.NaN : Math.max(...all.map((p) => p.apiCalls)),
    apiCallLimit: 1 + c.namespaces,
    unchangedUntouched: all.filter((p) => p.kind === 'unchanged').every((p) => p.added === 0 && p.removed === 0),
    churnExact: all.filter((p) => p.kind === 'churn').every((p) => p.added === p.expectedAdded && p.removed === p.expectedRemoved),
    coldComplete: all.filter((p) => p.kind === 'cold').every((p) => p.functions === c.namespaces * c.perNamespace && p.added === p.expectedAdded),
    missingPasses: c.passes * c.runs - all.length,
    crashes: runs.flatMap((r) => (r.crashed === undefined ? [] : [r.crashed])),
  };
}
