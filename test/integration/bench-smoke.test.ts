/**
 * The benchmark suite (bench/) at a tiny size: every scenario runs once against the built
 * connector, the bare client and the naive baseline, so the suite cannot rot. Benchmarks are not tests: this
 * checks only that each scenario produced figures and that no invocation arrived early, never
 * a timing (nor the duplicates of the HA scenario: a kill -9 may legitimately repeat a slot).
 */
import { describe, expect, it } from 'vitest';
import { runSuite, type SuiteResults } from '../../bench/suite.ts';

const finite = (value: number | undefined): boolean => value !== undefined && Number.isFinite(value);

describe('benchmark suite (smoke)', () => {
  let results: SuiteResults;

  // about 30 s before the ha scenario, about 50 s with it (on 2 cores)
  it('should run every scenario at a tiny size', async () => {
    results = await runSuite({ mode: 'smoke', log: () => undefined });
    expect(results.mode).toBe('smoke');
  }, 150_000);

  it('should measure lateness for the connector, the bare client and the naive baseline', () => {
    const size = results.lateness?.[0];
    for (const impl of [size?.connector, size?.bare, size?.naive]) {
      const run = impl?.runs[0];
      expect(run?.invocations).toBeGreaterThan(0);
      expect(run?.early).toBe(0);
      expect(finite(run?.lateness.p50) && finite(run?.lateness.p99) && finite(run?.lateness.max)).toBe(true);
      expect(finite(run?.firedPct)).toBe(true);
    }
  });

  it('should calibrate the machine', () => {
    expect(finite(results.calibration?.ceiling[0]?.rate)).toBe(true);
    expect(results.calibration?.floor.every((f) => f.arrival.count > 0)).toBe(true);
  });

  it('should measure throughput, discovery, idle and churn', () => {
    const step = results.throughput?.steps[0];
    expect(step?.connector.run.invocations).toBeGreaterThan(0);
    expect(finite(step?.connector.cpuPct)).toBe(true);
    const passes = results.discovery?.runs[0]?.passes ?? [];
    expect(passes.map((p) => p.kind)).toEqual(['cold', 'unchanged', 'churn']);
    expect(passes.every((p) => finite(p.durationMs) && finite(p.apiCalls))).toBe(true);
    expect(finite(results.discovery?.peakRssMb.median)).toBe(true);
    expect(finite(results.idle?.connector.cpuPct) && finite(results.idle?.connector.rssMb)).toBe(true);
    expect(results.churn?.passes).toBeGreaterThan(1);
    expect(results.churn?.curve.length).toBeGreaterThan(1);
    expect(results.targets.length).toBeGreaterThan(0);
  });

  it('should measure an every-second function while GET /schedules is polled', () => {
    const phases = results.schedules?.phases ?? [];
    expect(phases.map((p) => p.phase.name)).toEqual(['none', 'default', 'limit1000', 'concurrent']);
    for (const p of phases) {
      expect(p.lateness.count).toBeGreaterThan(0);
      expect(p.lateMs).toHaveLength(p.lateness.count);
      expect(finite(p.lateness.p50) && finite(p.lateness.p99) && finite(p.lateness.max)).toBe(true);
      expect(p.early).toBe(0);
      expect(p.duplicates).toBe(0);
    }
    expect(phases[0]?.poll).toBeUndefined();
    for (const p of phases.slice(1)) {
      // answers, not timings: every polled phase got pages of the population it asked for
      expect(p.poll?.ok).toBeGreaterThan(0);
      expect(p.poll?.failed).toBe(0);
      expect(p.poll?.totalScheduled).toBe((results.schedules?.config.functions ?? 0) + 1);
      expect(finite(p.poll?.bytesPerAnswer) && finite(p.poll?.responseMs.p50)).toBe(true);
    }
    expect(phases.find((p) => p.phase.name === 'limit1000')?.poll?.pageSize).toBe((results.schedules?.config.functions ?? 0) + 1);
    expect(phases.find((p) => p.phase.name === 'default')?.poll?.pageSize).toBe(100);
  });

  it('should fail over and hand over between leader-elected replicas, and count Lease requests and standby CPU', () => {
    const ha = results.ha;
    expect(ha?.problems).toEqual([]);
    for (const phase of [ha?.kill, ha?.term]) {
      expect(phase?.error).toBeUndefined();
      expect(phase?.rounds).toHaveLength(phase?.planned ?? -1);
      expect(phase?.invocations).toBeGreaterThan(0);
      expect(finite(phase?.timeMs.max) && finite(phase?.acquiredMs.max)).toBe(true);
    }
    // answers, not timings: every round found a new leader, which the report names
    for (const r of [...(ha?.kill.rounds ?? []), ...(ha?.term.rounds ?? [])]) expect(r.to).not.toBe(r.from);
    expect(finite(ha?.term.rounds[0]?.handOverMs)).toBe(true);
    expect(ha?.windows.map((w) => w.schedule)).toEqual(['* * * * * *', '* * * * *']);
    for (const w of ha?.windows ?? []) {
      expect(w.error).toBeUndefined();
      expect(w.writes).toBeGreaterThan(0);
      expect(w.reads).toBeGreaterThan(0);
      expect(w.standbyCpuPct.length).toBeGreaterThan(0);
      expect(w.standbyCpuPct.every(finite) && finite(w.leaderCpuPct)).toBe(true);
    }
  });

  it('should never have invoked a function before its nominal time', () => {
    expect(results.neverEarly.invocations).toBeGreaterThan(0);
    expect(results.neverEarly.early).toBe(0);
  });
});
