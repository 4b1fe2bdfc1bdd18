/**
 * The whole benchmark suite: starts the bench gateway (its own process), runs every scenario
 * against the real built connector and the naive baseline, and judges the targets of the
 * "Precision and scale" issue. `full` is what `npm run bench` runs (minutes); `smoke` runs every
 * scenario at a tiny size once (seconds) and only proves the suite works.
 */
import { fileURLToPath } from 'node:url';
import { BenchGateway } from './lib/gateway.ts';
import { machine, type Machine } from './lib/machine.ts';
import { cpuTicks, loadAverage } from './lib/proc.ts';
import type { Summary } from './lib/stats.ts';
import { runCalibration, type CalibrationResult } from './scenarios/calibration.ts';
import { FULL_CHURN, runChurn, SMOKE_CHURN, type ChurnResult } from './scenarios/churn.ts';
import { FULL_DISCOVERY, runDiscovery, SMOKE_DISCOVERY, type DiscoveryResult } from './scenarios/discovery.ts';
import { FULL_HA, runHa, SMOKE_HA, type HaResult } from './scenarios/ha.ts';
import { FULL_IDLE, runIdle, SMOKE_IDLE, type IdleResult } from './scenarios/idle.ts';
import { FULL_SIZES, runLateness, SMOKE_SIZES, type ImplFigures, type LatenessResult } from './scenarios/lateness.ts';
import { FULL_SCHEDULES, runSchedules, SMOKE_SCHEDULES, type SchedulesResult } from './scenarios/schedules-poll.ts';
import { FULL_STEPS, runThroughput, SMOKE_STEPS, type ThroughputResult } from './scenarios/throughput.ts';

export type Mode = 'full' | 'smoke';
export const SCENARIOS = ['calibration', 'lateness', 'throughput', 'discovery', 'idle', 'churn', 'schedules', 'ha'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface SuiteOptions {
  readonly mode: Mode;
  /** Run only these scenarios (default: all). */
  readonly only?: readonly ScenarioName[];
  readonly log?: (line: string) => void;
}

export interface TargetRow {
  readonly target: string;
  readonly measured: string;
  readonly baseline: string;
  /** What this machine allows at best (calibration), when it bounds the target. */
  readonly bound: string;
  /** undefined: not judged (smoke run, the scenario did not run, or saved results lack a figure it needs). */
  readonly met: boolean | undefined;
}

export interface SuiteResults {
  readonly mode: Mode;
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: Machine;
  /** Largest drift of the gateway's anchored arrival clock from Date.now() between two re-anchorings, ms. */
  readonly clockDriftMs: number;
  /** Percent of the machine's CPU time stolen by the hypervisor during the run (/proc/stat). */
  readonly stealPct: number;
  /** Percent of the machine's CPU time (all cores) busy during the run, the benchmark's own processes included. */
  readonly busyPct: number;
  /** 1-minute load average when the run started: above ~0.5, something else was running. */
  readonly loadAtStart: number;
  readonly calibration?: CalibrationResult;
  readonly lateness?: readonly LatenessResult[];
  readonly throughput?: ThroughputResult;
  readonly discovery?: DiscoveryResult;
  readonly idle?: IdleResult;
  readonly churn?: ChurnResult;
  readonly schedules?: SchedulesResult;
  readonly ha?: HaResult;
  /** Every connector invocation of the run, and those whose arrival (Date.now()) preceded their nominal time. */
  readonly neverEarly: { readonly invocations: number; readonly early: number; readonly naiveInvocations: number; readonly naiveEarly: number };
  readonly targets: readonly TargetRow[];
  /** Scenarios re-run later and merged into these results (`--merge`), with when. */
  readonly reruns?: ReadonlyArray<{ readonly scenarios: readonly ScenarioName[]; readonly at: string; readonly loadAtStart: number; readonly revision?: string }>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function runSuite(opts: SuiteOptions): Promise<SuiteResults> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const want = (s: ScenarioName): boolean => opts.only === undefined || opts.only.length === 0 || opts.only.includes(s);
  const full = opts.mode === 'full';
  const startedAt = Date.now();
  const loadAtStart = loadAverage();
  // the source revision when the run starts (the built connector is what it was then)
  const machineAtStart = machine(ROOT);
  if (loadAtStart > 0.5) log(`warning: load average ${loadAtStart} at start: something else is running, figures will be noisy`);
  const gw = await BenchGateway.start();
  const ticks0 = cpuTicks();
  try {
    const calibration = want('calibration') ? await runCalibration(gw, { requests: full ? 20_000 : 200, floorSlots: full ? 15 : 1, log }) : undefined;
    const lateness = want('lateness')
      ? await runLateness(gw, { sizes: full ? FULL_SIZES : SMOKE_SIZES, runs: full ? 3 : 1, baseline: true, log })
      : undefined;
    const throughput = want('throughput')
      ? await runThroughput(gw, { steps: full ? FULL_STEPS : SMOKE_STEPS, slots: full ? 5 : 1, baseline: true, log })
      : undefined;
    const discovery = want('discovery') ? await runDiscovery(gw, full ? FULL_DISCOVERY : SMOKE_DISCOVERY, log) : undefined;
    const idle = want('idle') ? await runIdle(gw, full ? FULL_IDLE : SMOKE_IDLE, log) : undefined;
    const churn = want('churn') ? await runChurn(gw, full ? FULL_CHURN : SMOKE_CHURN, log) : undefined;
    const schedules = want('schedules') ? await runSchedules(gw, full ? FULL_SCHEDULES : SMOKE_SCHEDULES, log) : undefined;
    const ha = want('ha') ? await runHa(gw, full ? FULL_HA : SMOKE_HA, log) : undefined;
    await gw.anchor();
    const ticks1 = cpuTicks();
    const partial = {
      mode: opts.mode,
      startedAt: new Date(startedAt).toISOString(),
      durationS: Math.round((Date.now() - startedAt) / 1000),
      machine: machineAtStart,
      clockDriftMs: gw.maxDriftMs,
      stealPct: ((ticks1.steal - ticks0.steal) / Math.max(1, ticks1.total - ticks0.total)) * 100,
      busyPct: (1 - (ticks1.idle - ticks0.idle) / Math.max(1, ticks1.total - ticks0.total)) * 100,
      loadAtStart,
      ...(calibration === undefined ? {} : { calibration }),
      ...(lateness === undefined ? {} : { lateness }),
      ...(throughput === undefined ? {} : { throughput }),
      ...(discovery === undefined ? {} : { discovery }),
      ...(idle === undefined ? {} : { idle }),
      ...(churn === undefined ? {} : { churn }),
      ...(schedules === undefined ? {} : { schedules }),
      ...(ha === undefined ? {} : { ha }),
      neverEarly: neverEarly(lateness, throughput, idle, churn, schedules, ha),
    };
    return { ...partial, targets: judge(partial) };
  } finally {
    await gw.stop();
  }
}

export function neverEarly(
  lateness: readonly LatenessResult[] | undefined,
  throughput: ThroughputResult | undefined,
  idle: IdleResult | undefined,
  churn: ChurnResult | undefined,
  schedules?: SchedulesResult,
  ha?: HaResult,
): SuiteResults['neverEarly'] {
  let invocations = 0;
  let early = 0;
  let naiveInvocations = 0;
  let naiveEarly = 0;
  const slotRuns = [
    ...(lateness ?? []).flatMap((l) => [...l.connector.runs, ...(l.naive?.runs ?? [])]),
    ...(throughput?.steps ?? []).flatMap((s) => [s.connector.run, ...(s.naive === undefined ? [] : [s.naive.run])]),
  ];
  for (const r of slotRuns) {
    if (r.impl === 'connector') {
      invocations += r.invocations;
      early += r.early;
    } else if (r.impl === 'naive') {
      naiveInvocations += r.invocations;
      naiveEarly += r.early;
    }
  }
  if (idle !== undefined) {
    invocations += idle.invocations;
    early += idle.early;
    naiveEarly += idle.naiveEarly;
    naiveInvocations += idle.naiveInvocations;
  }
  if (churn !== undefined) {
    invocations += churn.invocations;
    early += churn.early;
  }
  if (schedules !== undefined) {
    invocations += schedules.invocations;
    early += schedules.early;
  }
  if (ha !== undefined) {
    invocations += ha.invocations;
    early += ha.early;
  }
  return { invocations, early, naiveInvocations, naiveEarly };
}

// ---- targets -----------------------------------------------------------------------------

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (Math.abs(ms) < 10) return `${ms.toFixed(2)} ms`;
  if (Math.abs(ms) < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtSummary(s: Summary, fmt: (v: number) => string): string {
  if (!Number.isFinite(s.median)) return '–';
  return s.runs > 1 ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median);
}

const num = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const SHORT: Readonly<Record<string, string>> = { default: 'default page', limit1000: 'limit=1000', concurrent: '8 pollers' };
const pct = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(v >= 99.95 && v < 100 ? 2 : 1)}%` : '–');
const mb = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} MB` : '–');
const ratio = (connector: number, naive: number | undefined): string =>
  naive === undefined || !Number.isFinite(naive) || !Number.isFinite(connector) || connector === 0 ? '' : ` (${(naive / connector).toFixed(1)}× the connector's)`;

/** The targets of the issue, judged on a full run's figures (exported to re-render saved results). */
export function judge(r: Omit<SuiteResults, 'targets'>): TargetRow[] {
  const judged = r.mode === 'full';
  const verdict = (ok: boolean): boolean | undefined => (judged ? ok : undefined);
  const rows: TargetRow[] = [];
  const size = (n: number): LatenessResult | undefined => r.lateness?.find((l) => l.size.n === n);
  const spin = r.calibration?.floor.find((f) => f.wake !== 'setTimeout');
  const plain = r.calibration?.floor.find((f) => f.wake === 'setTimeout');
  const ceiling = r.calibration?.ceiling.find((c) => c.connections === 64);
  const fastest = r.calibration === undefined ? undefined : Math.max(...r.calibration.ceiling.map((c) => c.rate));
  const deliveryBound = (n: number): string =>
    ceiling === undefined || fastest === undefined
      ? ''
      : `the last of ${n.toLocaleString('en-US')} requests arrives ≥ ${fmtMs((n / fastest) * 1000)} after the slot (ceiling ${Math.round(fastest).toLocaleString('en-US')}/s, best of 64 and 256 connections)`;
  // Issue 13: the connector against the bare client (bench/bare-client.ts) measured in the same run.
  const vsBare = (l: LatenessResult): { p50: number; p99: number } => ({
    p50: l.connector.p50.median / (l.bare?.p50.median ?? Number.NaN),
    p99: l.connector.p99.median / (l.bare?.p99.median ?? Number.NaN),
  });
  const times = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
  const onceEach = (f: ImplFigures): boolean => f.firedPct.min >= 100 && f.duplicates === 0 && f.early === 0;
  const one = size(1);
  if (one !== undefined) {
    const q = vsBare(one);
    rows.push({
      target: '1 function per slot: p99 lateness ≤ 1.25× the bare client\'s (same run), every slot fired once',
      measured: `p99 ${fmtSummary(one.connector.p99, fmtMs)} = **${times(q.p99)}** the bare client's (p50 ${fmtMs(one.connector.p50.median)}, ${times(q.p50)})`,
      baseline: `p99 ${fmtSummary(one.naive?.p99 ?? one.connector.p99, fmtMs)}`,
      bound: `bare client: p50 ${one.bare === undefined ? '–' : fmtSummary(one.bare.p50, fmtMs)}, p99 ${one.bare === undefined ? '–' : fmtSummary(one.bare.p99, fmtMs)}${spin === undefined || plain === undefined ? '' : `; lean client alone: p99 ${fmtMs(spin.arrival.p99)} with spin + warm connection, ${fmtMs(plain.arrival.p99)} with setTimeout`}`,
      // results saved before the bare client existed cannot be judged against it
      met: one.bare === undefined ? undefined : verdict(q.p99 <= 1.25 && onceEach(one.connector)),
    });
  }
  const burstTarget = (n: number, rssMb: number): void => {
    const l = size(n);
    if (l === undefined) return;
    const c = l.connector;
    const q = vsBare(l);
    const every = l.size.periodMs === 1000 ? 'every second' : `on one slot every ${l.size.periodMs / 1000} s`;
    rows.push({
      target: `${n.toLocaleString('en-US')} functions ${every}: p50 and p99 lateness ≤ 1.25× the bare client's (same run), all fired once, RSS ≤ ${rssMb} MB`,
      measured: `p50 ${fmtSummary(c.p50, fmtMs)} = **${times(q.p50)}**, p99 ${fmtSummary(c.p99, fmtMs)} = **${times(q.p99)}** the bare client's; fired ${pct(c.firedPct.min)}, peak RSS ${mb(c.peakRssMb.max)}`,
      baseline: l.naive === undefined ? '' : `p99 ${fmtSummary(l.naive.p99, fmtMs)}, fired ${pct(l.naive.firedPct.min)}, RSS ${mb(l.naive.peakRssMb.max)}`,
      bound: `bare client: p50 ${l.bare === undefined ? '–' : fmtSummary(l.bare.p50, fmtMs)}, p99 ${l.bare === undefined ? '–' : fmtSummary(l.bare.p99, fmtMs)}${deliveryBound(n) === '' ? '' : `; ${deliveryBound(n)}`}`,
      met: l.bare === undefined ? undefined : verdict(q.p50 <= 1.25 && q.p99 <= 1.25 && onceEach(c) && c.peakRssMb.max <= rssMb),
    });
  };
  burstTarget(1000, 150);
  burstTarget(10_000, 300);
  const d = r.discovery;
  if (d !== undefined) {
    const n = d.functions.toLocaleString('en-US');
    rows.push({
      target: `Discovery, ${n} functions / ${d.config.namespaces.toLocaleString('en-US')} namespaces: one pass ≤ 2 s (cold, first pass)`,
      measured: d.crashes.length > 0 ? `connector ${d.crashes[0]} (${d.crashes.length} of ${d.config.runs} runs)` : fmtSummary(d.coldMs, fmtMs),
      baseline: 'n/a',
      bound: '',
      met: verdict(d.coldMs.max <= 2000 && d.coldComplete && d.crashes.length === 0),
    });
    rows.push({
      target: 'Discovery: one pass ≤ 2 s (steady passes: unchanged and 1% churn)',
      measured: `unchanged ${fmtSummary(d.unchangedMs, fmtMs)}, churn ${fmtSummary(d.churnMs, fmtMs)}`,
      baseline: 'n/a',
      bound: '',
      met: verdict(d.steadyMaxMs.max <= 2000 && d.missingPasses === 0),
    });
    rows.push({
      target: 'Discovery: at most 1 + namespaces API calls per pass',
      measured: Number.isFinite(d.maxApiCalls) ? `max ${d.maxApiCalls} calls per pass (limit ${d.apiCallLimit})` : 'no pass completed',
      baseline: 'n/a',
      bound: '',
      met: verdict(d.maxApiCalls <= d.apiCallLimit && d.missingPasses === 0),
    });
    rows.push({
      target: 'Discovery: unchanged schedules untouched; with 1% churn a pass touches only what changed',
      measured:
        d.missingPasses > 0
          ? `${d.missingPasses} of ${d.config.passes * d.config.runs} passes never completed`
          : `unchanged passes +0/−0: ${d.unchangedUntouched ? 'yes' : 'no'}; churn passes exactly +${d.config.churn}/−${d.config.churn}: ${d.churnExact ? 'yes' : 'no'}`,
      baseline: 'n/a',
      bound: '',
      met: verdict(d.unchangedUntouched && d.churnExact && d.missingPasses === 0),
    });
    rows.push({
      target: 'Discovery: RSS ≤ 250 MB',
      measured: `peak ${fmtSummary(d.peakRssMb, mb)}`,
      baseline: 'n/a',
      bound: '',
      met: verdict(d.peakRssMb.max <= 250 && d.crashes.length === 0),
    });
  }
  const idle = r.idle;
  if (idle !== undefined) {
    rows.push({
      target: `Idle: ${idle.config.n.toLocaleString('en-US')} schedules on minute slots, CPU ≤ 1% between slots`,
      measured: `${idle.connector.cpuPct.toFixed(2)}% over ${idle.windowMs / 1000} s (${idle.passesInWindow} discovery passes), RSS ${mb(idle.connector.rssMb)}`,
      baseline: idle.naive === undefined ? '' : `${idle.naive.cpuPct.toFixed(2)}%, RSS ${mb(idle.naive.rssMb)}${ratio(idle.connector.cpuPct, idle.naive.cpuPct)}`,
      bound: '',
      met: verdict(idle.connector.cpuPct <= 1),
    });
  }
  const churn = r.churn;
  if (churn !== undefined) {
    const flat = Math.abs(churn.slopeMbPerMin) <= 2 && churn.secondHalfMaxMb <= churn.firstHalfMaxMb * 1.1;
    rows.push({
      target: `Churn: ${churn.config.churn.toLocaleString('en-US')} functions added and removed every pass keeps memory flat (second-half slope ≤ 2 MB/min, peak within 10% of the first half's)`,
      measured: `${churn.slopeMbPerMin.toFixed(2)} MB/min; RSS ${churn.checkpoints.map((v) => v.toFixed(0)).join(' → ')} MB over ${churn.config.durationMs / 1000} s, ${churn.passes} passes`,
      baseline: 'n/a',
      bound: '',
      met: verdict(flat && churn.exactPasses === Math.max(0, churn.passes - 1)),
    });
  }
  const sc = r.schedules;
  if (sc !== undefined) {
    const none = sc.phases.find((p) => p.phase.name === 'none');
    const polled = sc.phases.filter((p) => p.phase.pollers > 0);
    const allFired = sc.phases.every((p) => p.fired === p.slots && p.duplicates === 0 && p.early === 0);
    const delta = (p: (typeof polled)[number]): number => p.lateness.p99 - (none?.lateness.p99 ?? Number.NaN);
    const signed = (ms: number): string => (Number.isFinite(ms) ? `${ms >= 0 ? '+' : '−'}${fmtMs(Math.abs(ms))}` : '–');
    rows.push({
      target: `GET /schedules polled back to back (${num(sc.config.functions)} functions in ${sc.timezone}): an every-second function's p99 lateness within 1 ms of nobody polling, every slot fired once`,
      measured: `p99 ${fmtMs(none?.lateness.p99 ?? Number.NaN)} unpolled; ${polled.map((p) => `${SHORT[p.phase.name] ?? p.phase.name} ${fmtMs(p.lateness.p99)} (${signed(delta(p))})`).join(', ')}; ${sc.phases.reduce((a, p) => a + p.fired, 0)} of ${sc.phases.reduce((a, p) => a + p.slots, 0)} slots fired once`,
      baseline: 'n/a',
      bound: '',
      met: verdict(none !== undefined && polled.length > 0 && polled.every((p) => delta(p) <= 1) && allFired),
    });
  }
  if (r.ha !== undefined) rows.push(...haTargets(r.ha, verdict));
  rows.push({
    target: 'Never early: no invocation before its nominal time',
    measured: `${r.neverEarly.early} early of ${r.neverEarly.invocations.toLocaleString('en-US')} invocations`,
    baseline: `${r.neverEarly.naiveEarly} early of ${r.neverEarly.naiveInvocations.toLocaleString('en-US')}`,
    bound: '',
    met: verdict(r.neverEarly.early === 0),
  });
  return rows;
}

/** The election durations as the report states them: "lease_duration 15s, renew_deadline 10s, retry_period 2s (the defaults)". */
export function electionText(e: HaResult['config']['election']): string {
  const d = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  return `lease_duration ${d(e.leaseDurationMs)}, renew_deadline ${d(e.renewDeadlineMs)}, retry_period ${d(e.retryPeriodMs)}${e.defaults ? ' (the defaults)' : ''}`;
}

/** The targets of the "Tests and figures" issue for leader election (issue 10). */
function haTargets(ha: HaResult, verdict: (ok: boolean) => boolean | undefined): TargetRow[] {
  const c = ha.config;
  const e = c.election;
  const failoverBound = e.leaseDurationMs + e.retryPeriodMs + 1000;
  const handOverBound = e.retryPeriodMs + 1000;
  const { kill, term } = ha;
  const complete = (p: HaResult['kill']): string => (p.rounds.length === p.planned ? '' : ` (only ${p.rounds.length} of ${p.planned} rounds: ${p.error ?? 'stopped'})`);
  const setup = `${c.replicas} replicas, ${c.functions} functions on \`* * * * * *\`, ${electionText(e)}`;
  const standby = ha.windows.flatMap((w) => w.standbyCpuPct).filter((v) => Number.isFinite(v));
  const maxStandby = standby.length === 0 ? Number.NaN : Math.max(...standby);
  return [
    {
      target: `HA, kill -9 of the leader, ${kill.planned} rounds (${setup}): no slot sent twice (execution ids seen more than once: 0)`,
      measured: `${kill.duplicates} duplicate execution ids among ${kill.invocations.toLocaleString('en-US')} invocations; ${kill.missed} of ${kill.slots.toLocaleString('en-US')} slots missed, ${kill.caughtUp} run late by the catch-up${complete(kill)}`,
      baseline: 'n/a',
      bound: '',
      met: verdict(kill.duplicates === 0 && kill.rounds.length === kill.planned),
    },
    {
      target: `HA, kill -9: fail-over (kill → first invocation of the next leader, at the gateway) ≤ lease_duration + retry_period + 1 s = ${fmtMs(failoverBound)}`,
      measured: `max ${fmtMs(kill.timeMs.max)}, p50 ${fmtMs(kill.timeMs.p50)} over ${kill.timeMs.count} rounds${complete(kill)}`,
      baseline: 'n/a',
      bound: '',
      met: verdict(kill.timeMs.max <= failoverBound && kill.rounds.length === kill.planned),
    },
    {
      target: `HA, SIGTERM to the leader, ${term.planned} rounds: no slot missed, none sent twice`,
      measured: `${term.missed} of ${term.slots.toLocaleString('en-US')} slots missed, ${term.duplicates} duplicate execution ids among ${term.invocations.toLocaleString('en-US')} invocations${complete(term)}`,
      baseline: 'n/a',
      bound: '',
      met: verdict(term.missed === 0 && term.duplicates === 0 && term.rounds.length === term.planned),
    },
    {
      target: `HA, SIGTERM: hand-over (Lease released → first invocation of the next leader) ≤ retry_period + 1 s = ${fmtMs(handOverBound)}`,
      measured: `max ${fmtMs(term.timeMs.max)}, p50 ${fmtMs(term.timeMs.p50)} over ${term.timeMs.count} rounds${complete(term)}`,
      baseline: 'n/a',
      bound: '',
      met: verdict(term.timeMs.max <= handOverBound && term.rounds.length === term.planned),
    },
    {
      target: `HA: a standby's CPU ≤ 1% of one core (${c.windowMs / 1000} s windows)`,
      measured: `max ${Number.isFinite(maxStandby) ? maxStandby.toFixed(2) : '–'}% (${ha.windows.map((w) => `${w.schedule === '* * * * * *' ? 'every-second' : 'minute'} functions: ${w.standbyCpuPct.map((v) => `${v.toFixed(2)}%`).join(', ') || '–'}`).join('; ')})`,
      baseline: 'n/a',
      bound: '',
      met: verdict(Number.isFinite(maxStandby) && maxStandby <= 1 && ha.windows.every((w) => w.error === undefined)),
    },
  ];
}
