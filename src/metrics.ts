/**
 * Prometheus metrics (prom-client) on a registry of our own. Components report through this
 * narrow interface so the core does not depend on prom-client, and tests can pass `noMetrics`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RebuildResult = 'success' | 'failure';
export type SkipReason = 'overlap' | 'missed';

export interface MetricsSink {
  /** One finished invocation (after retries): `code` is the HTTP status or "error". */
  invocation(fn: { name: string; namespace: string }, code: string, seconds: number): void;
  /** A retry attempt was made. */
  retry(fn: { name: string; namespace: string }): void;
  lateness(seconds: number): void;
  scheduledFunctions(count: number): void;
  rebuild(result: RebuildResult): void;
  tokenExchange(result: RebuildResult): void;
  skipped(reason: SkipReason, count?: number): void;
}

export const noMetrics: MetricsSink = {
  invocation: () => undefined,
  retry: () => undefined,
  lateness: () => undefined,
  scheduledFunctions: () => undefined,
  rebuild: () => undefined,
  tokenExchange: () => undefined,
  skipped: () => undefined,
};

export class PrometheusMetrics implements MetricsSink {
  readonly registry = new Registry();
  private readonly invocations: Counter<'function' | 'namespace' | 'code'>;
  private readonly retries: Counter<'function' | 'namespace'>;
  private readonly duration: Histogram;
  private readonly fireLateness: Histogram;
  private readonly scheduled: Gauge;
  private readonly rebuilds: Counter<'result'>;
  private readonly exchanges: Counter<'result'>;
  private readonly skips: Counter<'reason'>;

  constructor() {
    const registers = [this.registry];
    this.invocations = new Counter({
      name: 'cron_connector_invocations_total',
      help: 'Invocations by function, namespace and final status code ("error" when no response).',
      labelNames: ['function', 'namespace', 'code'],
      registers,
    });
    this.retries = new Counter({
      name: 'cron_connector_invocation_retries_total',
      help: 'Retry attempts of invocations, by function and namespace.',
      labelNames: ['function', 'namespace'],
      registers,
    });
    this.duration = new Histogram({
      name: 'cron_connector_invocation_duration_seconds',
      help: 'Time from the first attempt to the final answer of an invocation.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.fireLateness = new Histogram({
      name: 'cron_connector_fire_lateness_seconds',
      help: 'Time from the nominal fire time to the moment the invocation was sent.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.scheduled = new Gauge({ name: 'cron_connector_scheduled_functions', help: 'Functions scheduled now.', registers });
    this.rebuilds = new Counter({ name: 'cron_connector_rebuilds_total', help: 'Discovery passes by result.', labelNames: ['result'], registers });
    this.exchanges = new Counter({
      name: 'cron_connector_token_exchanges_total',
      help: 'Token exchanges by result.',
      labelNames: ['result'],
      registers,
    });
    this.skips = new Counter({
      name: 'cron_connector_skipped_total',
      help: 'Slots not invoked, by reason (overlap: concurrency=forbid; missed: coalesced after a pause).',
      labelNames: ['reason'],
      registers,
    });
    // a coarse event-loop monitor: the default 10 ms sampling alone costs ~1% CPU when idle
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
  }

  invocation(fn: { name: string; namespace: string }, code: string, seconds: number): void {
    this.invocations.inc({ function: fn.name, namespace: fn.namespace, code });
    this.duration.observe(seconds);
  }

  retry(fn: { name: string; namespace: string }): void {
    this.retries.inc({ function: fn.name, namespace: fn.namespace });
  }

  lateness(seconds: number): void {
    this.fireLateness.observe(Math.max(0, seconds));
  }

  scheduledFunctions(count: number): void {
    this.scheduled.set(count);
  }

  rebuild(result: RebuildResult): void {
    this.rebuilds.inc({ result });
  }

  tokenExchange(result: RebuildResult): void {
    this.exchanges.inc({ result });
  }

  skipped(reason: SkipReason, count = 1): void {
    this.skips.inc({ reason }, count);
  }
}
