/**
 * Prometheus metrics (prom-client) on a registry of our own. Components report through this
 * narrow interface so the core does not depend on prom-client, and tests can pass `noMetrics`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Histogram } from 'prom-client';

export type RebuildResult = 'success' | 'failure';

/** How long one rendering of /metrics answers further scrapes. */
export const EXPOSITION_MAX_AGE_MS = 1_000;
export type SkipReason = 'overlap' | 'missed';

const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface MetricsSink {
  /** One finished invocation (after retries): `code` is the HTTP status or "error". */
  invocation(fn: FunctionRef, code: string, seconds: number): void;
  /** A retry attempt was made. */
  retry(fn: FunctionRef): void;
  lateness(seconds: number): void;
  scheduledFunctions(count: number): void;
  rebuild(result: RebuildResult): void;
  tokenExchange(result: RebuildResult): void;
  skipped(reason: SkipReason, count?: number): void;
  /** Drops the per-function series of functions no longer scheduled (ids as `name.namespace`). */
  retainOnly(scheduled: ReadonlyMap<string, unknown>): void;
}

/** Leader election, reported only when it is on. */
export interface LeaderMetrics {
  leader(isLeader: boolean): void;
  /** One write of the Lease (acquire, renew with the record, release). */
  leaseWrite(ok: boolean): void;
  /** A renewal attempt of the leader that failed (no answer, an error, or a conflict). */
  renewalFailure(): void;
}

/** A function as metrics see it: `id` is `name.namespace` (the id retainOnly() is given). */
export interface FunctionRef {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
}

export const noMetrics: MetricsSink = {
  invocation: () => undefined,
  retry: () => undefined,
  lateness: () => undefined,
  scheduledFunctions: () => undefined,
  rebuild: () => undefined,
  tokenExchange: () => undefined,
  skipped: () => undefined,
  retainOnly: () => undefined,
};

interface Count {
  value: number;
  /** How much of `value` prom-client has been given. */
  exported: number;
}

interface FunctionSeries {
  readonly labels: { readonly function: string; readonly namespace: string };
  /** Invocations by final code. */
  readonly codes: Map<string, Count>;
  readonly retries: Count;
}

/** One sample of a histogram as prom-client's Histogram.get() gives it (exemplars are off). */
interface HistogramSample {
  readonly value: number;
  readonly metricName: string;
  readonly labels: { readonly le?: number | '+Inf' };
}

/**
 * An unlabelled histogram kept in typed arrays. prom-client's Histogram.observe() validates and
 * hashes (empty) labels and allocates on every call (~1.7 µs per invocation in a burst); here an
 * observation is a scan of a dozen bounds and three stores, and prom-client meets the counts only
 * when /metrics is scraped, through the interface its registry uses for a metric (name, help, type,
 * aggregator, get(), reset()). The exposition is the one a prom-client Histogram with the same
 * buckets renders: cumulative `_bucket{le=...}` lines up to +Inf, then `_sum` and `_count`.
 */
export class TypedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  /** Observations per bucket, not cumulative; the last slot holds those above the last bound. */
  private readonly counts: Float64Array;
  private count = 0;
  /** Added in order, as prom-client does. */
  private sum = 0;

  constructor(config: { readonly name: string; readonly help: string; readonly buckets: readonly number[]; readonly registers: readonly Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.bounds = Float64Array.from(config.buckets);
    this.counts = new Float64Array(this.bounds.length + 1);
    // prom-client's types take only its own metric classes, though the registry reads no more of
    // a metric than this class has: the cast is confined to registration
    for (const registry of config.registers) registry.registerMetric(this as unknown as Histogram);
  }

  /** Counts `value` in the first bucket with value <= le; a value that is not finite is left out. */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += value;
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramSample[] }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramSample[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      values.push({ value: cumulative, metricName: bucket, labels: { le: this.bounds[i]! } });
    }
    values.push(
      { value: this.count, metricName: bucket, labels: { le: '+Inf' } },
      { value: this.sum, metricName: `${this.name}_sum`, labels: {} },
      { value: this.count, metricName: `${this.name}_count`, labels: {} },
    );
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Registry.resetMetrics(): back to no observations. */
  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
  }
}

export class PrometheusMetrics implements MetricsSink, LeaderMetrics {
  readonly registry = new Registry();
  private readonly invocations: Counter<'function' | 'namespace' | 'code'>;
  private readonly retries: Counter<'function' | 'namespace'>;
  private readonly duration: TypedHistogram;
  private readonly fireLateness: TypedHistogram;
  private readonly scheduled: Gauge;
  private readonly rebuilds: Counter<'result'>;
  private readonly exchanges: Counter<'result'>;
  private readonly skips: Counter<'reason'>;
  private leaderGauge: Gauge | undefined;
  private leaseWrites: Counter<'result'> | undefined;
  private renewalFailures: Counter | undefined;
  /** Which per-function series exist, so they can be removed when the function goes away. */
  private readonly series = new Map<string, FunctionSeries>();
  private lastExposition: { readonly at: number; readonly body: Promise<string> } | undefined;

  /** `droppedLogLines`: how many log lines stdout would not take so far (src/log-sink.ts). */
  constructor(opts: { readonly droppedLogLines?: () => number } = {}) {
    const registers = [this.registry];
    // Per-function counts are kept in a plain map on the hot path and handed to prom-client when
    // scraped, only what changed since the last scrape: a labelled inc() hashes its labels each
    // time (~10 µs per invocation in a burst).
    const series = this.series;
    this.invocations = new Counter({
      name: 'cron_connector_invocations_total',
      help: 'Invocations by function, namespace and final status code ("error" when no response).',
      labelNames: ['function', 'namespace', 'code'],
      registers,
      collect(this: Counter<'function' | 'namespace' | 'code'>) {
        for (const s of series.values()) {
          for (const [code, c] of s.codes) {
            if (c.value === c.exported) continue;
            this.inc({ ...s.labels, code }, c.value - c.exported);
            c.exported = c.value;
          }
        }
      },
    });
    this.retries = new Counter({
      name: 'cron_connector_invocation_retries_total',
      help: 'Retry attempts of invocations, by function and namespace.',
      labelNames: ['function', 'namespace'],
      registers,
      collect(this: Counter<'function' | 'namespace'>) {
        for (const s of series.values()) {
          const c = s.retries;
          if (c.value === c.exported) continue;
          this.inc(s.labels, c.value - c.exported);
          c.exported = c.value;
        }
      },
    });
    // the two histograms are observed once per invocation each: see TypedHistogram
    this.duration = new TypedHistogram({
      name: 'cron_connector_invocation_duration_seconds',
      help: 'Time from the first attempt to the final answer of an invocation.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.fireLateness = new TypedHistogram({
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
      help: 'Slots not invoked, by reason (overlap: concurrency=forbid; missed: not handed over on time and not run by the catch-up policy).',
      labelNames: ['reason'],
      registers,
    });
    const dropped = opts.droppedLogLines;
    if (dropped !== undefined) {
      let exported = 0;
      new Counter({
        name: 'cron_connector_log_lines_dropped_total',
        help: 'Log lines not written because stdout was gone (EPIPE) or would not take more.',
        registers,
        collect(this: Counter) {
          const now = dropped();
          if (now > exported) this.inc(now - exported);
          exported = now;
        },
      });
    }
    // a coarse event-loop monitor: the default 10 ms sampling alone costs ~1% CPU when idle
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    // prom-client's gauges of active handles, requests and resources end in _total, which
    // Prometheus keeps for counters (`promtool check metrics` flags them): left out, so the
    // exposition follows the naming rules throughout
    for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
  }

  /**
   * The text exposition. Rendering it is one task on the event loop that fires slots, longer the
   * more functions have series, and any pod that reaches the port can ask for it: scrapes less
   * than `maxAgeMs` apart, and concurrent ones, share one rendering. Prometheus scrapes every 15 s
   * or more, so it never sees a reused answer.
   */
  exposition(now: number, maxAgeMs = EXPOSITION_MAX_AGE_MS): Promise<string> {
    const last = this.lastExposition;
    if (last !== undefined && now >= last.at && now - last.at < maxAgeMs) return last.body;
    const body = this.registry.metrics();
    const rendering = { at: now, body };
    this.lastExposition = rendering;
    body.catch(() => {
      if (this.lastExposition === rendering) this.lastExposition = undefined;
    });
    return body;
  }

  private seriesOf(fn: FunctionRef): FunctionSeries {
    let s = this.series.get(fn.id);
    if (s === undefined) {
      s = { labels: { function: fn.name, namespace: fn.namespace }, codes: new Map(), retries: { value: 0, exported: 0 } };
      this.series.set(fn.id, s);
    }
    return s;
  }

  invocation(fn: FunctionRef, code: string, seconds: number): void {
    const { codes } = this.seriesOf(fn);
    const c = codes.get(code);
    if (c === undefined) codes.set(code, { value: 1, exported: 0 });
    else c.value++;
    this.duration.observe(seconds);
  }

  retry(fn: FunctionRef): void {
    this.seriesOf(fn).retries.value++;
  }

  /**
   * A deleted or unscheduled function's series are removed, as kube-state-metrics does for
   * deleted objects: otherwise churn grows memory, /metrics and Prometheus cardinality forever.
   */
  retainOnly(scheduled: ReadonlyMap<string, unknown>): void {
    for (const [id, s] of this.series) {
      if (scheduled.has(id)) continue;
      for (const [code, c] of s.codes) if (c.exported > 0) this.invocations.remove({ ...s.labels, code });
      if (s.retries.exported > 0) this.retries.remove(s.labels);
      this.series.delete(id);
    }
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

  /** Registers the leader election series (only when it is on, so a single replica shows none). */
  enableLeaderElection(): void {
    if (this.leaderGauge !== undefined) return;
    const registers = [this.registry];
    this.leaderGauge = new Gauge({ name: 'cron_connector_leader', help: '1 on the replica that leads (and invokes), 0 on standbys.', registers });
    this.leaderGauge.set(0);
    this.leaseWrites = new Counter({
      name: 'cron_connector_lease_writes_total',
      help: 'Writes of the leader election Lease (take-over, renewal with the progress record, release), by result; failures are failed renewals or take-overs.',
      labelNames: ['result'],
      registers,
    });
    this.leaseWrites.inc({ result: 'success' }, 0);
    this.leaseWrites.inc({ result: 'failure' }, 0);
    this.renewalFailures = new Counter({
      name: 'cron_connector_lease_renewal_failures_total',
      help: 'Failed renewals of the Lease by the leader; it stops invoking when none succeeds for renew_deadline.',
      registers,
    });
  }

  renewalFailure(): void {
    this.renewalFailures?.inc();
  }

  leader(isLeader: boolean): void {
    this.leaderGauge?.set(isLeader ? 1 : 0);
  }

  leaseWrite(ok: boolean): void {
    this.leaseWrites?.inc({ result: ok ? 'success' : 'failure' });
  }

  skipped(reason: SkipReason, count = 1): void {
    this.skips.inc({ reason }, count);
  }
}
