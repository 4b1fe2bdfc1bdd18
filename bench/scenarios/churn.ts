/**
 * Churn: 10,000 steady functions (quiet daily schedules) plus a namespace whose 1,000 functions
 * are replaced by 1,000 brand-new ones on every pass (rebuild_interval 1s), each firing every
 * second while it exists, for a few minutes. Every pass adds and removes 1,000 schedules and the
 * connector keeps invoking ~1,000 functions a second. Memory must stay flat: the RSS curve is
 * sampled every second from /proc; the figure is the growth over the second half of the run
 * (least-squares slope, MB per minute) and the RSS at each fifth of the run. One run.
 */
import { ConnectorRun, connectorEnv } from '../lib/connector.ts';
import type { BenchGateway } from '../lib/gateway.ts';
import { cpuPercent, Sampler } from '../lib/proc.ts';
import { sleep } from '../lib/slots.ts';
import { round, slope } from '../lib/stats.ts';

export interface ChurnConfig {
  readonly steady: number;
  readonly churn: number;
  readonly durationMs: number;
  readonly rebuildInterval: string;
}

export const FULL_CHURN: ChurnConfig = { steady: 10_000, churn: 1000, durationMs: 150_000, rebuildInterval: '1s' };
export const SMOKE_CHURN: ChurnConfig = { steady: 10, churn: 10, durationMs: 3500, rebuildInterval: '1s' };

export interface ChurnResult {
  readonly config: ChurnConfig;
  readonly passes: number;
  /** Passes (after the first) that added and removed exactly `churn` schedules. */
  readonly exactPasses: number;
  /** [seconds since start, RSS MB] every second. */
  readonly curve: ReadonlyArray<readonly [number, number]>;
  /** RSS at 20%, 40%, 60%, 80% and 100% of the run, MB. */
  readonly checkpoints: readonly number[];
  readonly slopeMbPerMin: number;
  readonly firstHalfMaxMb: number;
  readonly secondHalfMaxMb: number;
  readonly peakRssMb: number;
  readonly cpuPct: number;
  readonly invocations: number;
  readonly early: number;
  readonly problems: readonly string[];
}

export async function runChurn(gw: BenchGateway, c: ChurnConfig, log: (line: string) => void): Promise<ChurnResult> {
  const namespaces = c.steady >= 1000 ? 10 : 1;
  await gw.setPopulation({ groups: [{ nsPrefix: 'steady', namespaces, perNamespace: Math.ceil(c.steady / namespaces), namePrefix: 'fn', schedule: { kind: 'spread' } }] });
  await gw.churn({ namespace: 'churn', size: c.churn, schedule: '* * * * * *' });
  await gw.recordMode(false);
  await gw.takeInvocations();
  const run = await ConnectorRun.start(connectorEnv(gw, { rebuild_interval: c.rebuildInterval, debug: 'true' }));
  const sampler = new Sampler(run.pid, 1000);
  let started = Date.now();
  try {
    await run.waitFor((l) => l.msg === 'Discovery complete', 60_000, 'the first discovery pass');
    started = Date.now();
    sampler.take();
    const end = started + c.durationMs;
    let nextLog = started + 30_000;
    while (Date.now() < end && run.running) {
      await sleep(Math.min(1000, end - Date.now()));
      if (Date.now() >= nextLog) {
        nextLog += 30_000;
        const s = sampler.samples[sampler.samples.length - 1];
        log(`churn: ${Math.round((Date.now() - started) / 1000)} s, ${run.byMsg('Discovery complete').length} passes, RSS ${s?.rssMb.toFixed(0)} MB`);
      }
    }
    sampler.take();
  } finally {
    sampler.stop();
    await run.stop();
    await gw.churn({ namespace: 'churn', size: 0, schedule: '* * * * * *' });
    await gw.recordMode(true);
  }
  const records = await gw.takeInvocations();
  const samples = sampler.samples.filter((s) => s.at >= started);
  const curve = samples.map((s) => [round((s.at - started) / 1000, 1), round(s.rssMb, 1)] as const);
  const half = samples.filter((s) => s.at - started >= c.durationMs / 2);
  const firstHalf = samples.filter((s) => s.at - started < c.durationMs / 2);
  const checkpoints = [0.2, 0.4, 0.6, 0.8, 1].map((f) => {
    const t = started + f * c.durationMs;
    const s = samples.reduce((best, x) => (Math.abs(x.at - t) < Math.abs(best.at - t) ? x : best), samples[0] ?? { at: 0, rssMb: Number.NaN });
    return round(s.rssMb, 1);
  });
  const passes = run.byMsg('Discovery complete');
  const first = samples[0];
  const lastSample = samples[samples.length - 1];
  return {
    config: c,
    passes: passes.length,
    exactPasses: passes.slice(1).filter((p) => p['added'] === c.churn && p['removed'] === c.churn).length,
    curve,
    checkpoints,
    slopeMbPerMin: slope(half.map((s) => (s.at - started) / 60_000), half.map((s) => s.rssMb)),
    firstHalfMaxMb: Math.max(...firstHalf.map((s) => s.rssMb)),
    secondHalfMaxMb: Math.max(...half.map((s) => s.rssMb)),
    peakRssMb: sampler.peakRssMb,
    cpuPct: first !== undefined && lastSample !== undefined ? cpuPercent(first, lastSample) : Number.NaN,
    invocations: records.total,
    early: records.early,
    problems: [...(run.crash === undefined ? [] : [`connector ${run.crash}`]), ...run.problems().slice(0, 5).map((p) => JSON.stringify(p).slice(0, 240))],
  };
}
