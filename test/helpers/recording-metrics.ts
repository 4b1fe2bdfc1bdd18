/** A MetricsSink that records every call, in order, for exact assertions. */
import type { FunctionRef, MetricsSink, RebuildResult, SkipReason } from '../../src/metrics.ts';

export type MetricsCall =
  | readonly ['invocation', string, string, number]
  | readonly ['retry', string]
  | readonly ['lateness', number]
  | readonly ['scheduledFunctions', number]
  | readonly ['rebuild', RebuildResult]
  | readonly ['tokenExchange', RebuildResult]
  | readonly ['skipped', SkipReason, number]
  | readonly ['retainOnly', readonly string[]];

export class RecordingMetrics implements MetricsSink {
  /** Function references are recorded by id (`name.namespace`). */
  readonly calls: MetricsCall[] = [];

  invocation(fn: FunctionRef, code: string, seconds: number): void {
    this.calls.push(['invocation', fn.id, code, seconds]);
  }

  retry(fn: FunctionRef): void {
    this.calls.push(['retry', fn.id]);
  }

  lateness(seconds: number): void {
    this.calls.push(['lateness', seconds]);
  }

  scheduledFunctions(count: number): void {
    this.calls.push(['scheduledFunctions', count]);
  }

  rebuild(result: RebuildResult): void {
    this.calls.push(['rebuild', result]);
  }

  tokenExchange(result: RebuildResult): void {
    this.calls.push(['tokenExchange', result]);
  }

  skipped(reason: SkipReason, count = 1): void {
    this.calls.push(['skipped', reason, count]);
  }

  retainOnly(scheduled: ReadonlyMap<string, unknown>): void {
    this.calls.push(['retainOnly', [...scheduled.keys()]]);
  }

  /** The calls of one kind, without the kind. */
  of(kind: MetricsCall[0]): unknown[][] {
    return this.calls.filter((c) => c[0] === kind).map((c) => c.slice(1));
  }
}
