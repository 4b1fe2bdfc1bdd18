/**
 * The discovery loop's single pass: list namespaces, list each namespace's functions with
 * bounded concurrency, compute the desired state, and apply the difference to the scheduler.
 * A pass never throws: whatever it could not read keeps its schedules, and every problem is
 * logged once per change, not once per pass.
 */
import { hash } from 'node:crypto';
import type { Clock } from './clock.ts';
import { formatDuration } from './duration.ts';
import { systemCode } from './diagnosis.ts';
import { ConnectorError, GatewayError, describeError } from './errors.ts';
import { isGone, type GatewayClient } from './gateway/client.ts';
import { parseFunctionList } from './gateway/types.ts';
import type { Logger } from './log.ts';
import type { MetricsSink } from './metrics.ts';
import type { DesiredFunction, SelectionDefaults } from './schedule/annotations.ts';
import type { CompiledSchedule } from './schedule/cron.ts';
import {
  EMPTY_STATE,
  desiredState,
  planChanges,
  selectNamespace,
  type DesiredState,
  type NamespaceOutcome,
  type NamespaceSelection,
  type Plan,
} from './schedule/desired.ts';
import type { Scheduler } from './schedule/scheduler.ts';

export interface ReconcilerOptions {
  /** The gateway calls discovery makes (a GatewayClient; tests pass a fake). */
  readonly client: Pick<GatewayClient, 'listNamespaces' | 'fetchFunctionList'>;
  readonly scheduler: Scheduler<DesiredFunction>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  readonly defaults: SelectionDefaults;
  readonly rebuildTimeoutMs: number;
  /** Namespaces listed at once. */
  readonly concurrency?: number;
}

export interface PassSummary {
  readonly ok: boolean;
  readonly namespaces: number;
  readonly functions: number;
  readonly schedules: number;
  readonly added: number;
  readonly removed: number;
}

const DEFAULT_CONCURRENCY = 8;
/**
 * `Added` and `Removed` lines written per pass, each; beyond them one line counts the rest, so a
 * cold start at 100,000 functions does not write 100,000 lines (GET /schedules lists them all).
 */
export const CHANGE_LINES_PER_PASS = 100;
/**
 * A namespace that keeps failing is reported when it starts failing, when its error changes and
 * every this many passes after that, not on every pass (1,000 failing namespaces would otherwise
 * write 1,000 lines a pass).
 */
export const UNREADABLE_REPORT_EVERY = 10;

/** What a namespace answered last time: the listing's digest and what it selected. */
interface Listing {
  readonly digest: string;
  readonly selection: NamespaceSelection;
}

type Outcome = NamespaceOutcome & { readonly digest?: string };

/**
 * The scheduler's key for one schedule of one function. Built with join(), which makes one flat
 * string: a template literal would keep a rope of string pieces alive for every entry
 * (~4 MB per 100,000 schedules).
 */
export function entryKey(fn: DesiredFunction, s: CompiledSchedule): string {
  return [fn.id, s.key].join('|');
}

/**
 * What kind of failure an error is, for telling "the same again" from "something new": its code,
 * status and system code, not its message (a timeout's message says how long was left of the
 * pass, which differs every pass).
 */
function failureKey(err: unknown): string {
  if (!(err instanceof ConnectorError)) return describeError(err);
  const status = err instanceof GatewayError ? (err.status ?? '') : '';
  return `${err.code}|${status}|${systemCode(err) ?? ''}`;
}

async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let index = 0;
  const worker = async (): Promise<void> => {
    while (index < items.length) {
      const i = index++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class Reconciler {
  private readonly opts: ReconcilerOptions;
  private state: DesiredState = EMPTY_STATE;
  private skipped = new Map<string, string>();
  /** Namespaces whose listing failed, with the error and the passes in a row it did. */
  private unreadable = new Map<string, { readonly key: string; readonly passes: number }>();
  private listings = new Map<string, Listing>();
  private passes = 0;
  private lastSuccess: number | undefined;

  constructor(opts: ReconcilerOptions) {
    this.opts = opts;
  }

  /** When the last pass that read the gateway completed (for /readyz), ms since the epoch. */
  get lastSuccessAt(): number | undefined {
    return this.lastSuccess;
  }

  /** What is scheduled and what was rejected, as of the last pass. */
  get current(): DesiredState {
    return this.state;
  }

  async pass(signal?: AbortSignal): Promise<PassSummary> {
    const { clock, logger } = this.opts;
    const started = clock.now();
    const deadline = started + this.opts.rebuildTimeoutMs;
    const remaining = (): number => Math.max(1, deadline - clock.now());
    let namespaces: string[];
    try {
      namespaces = await this.opts.client.listNamespaces(remaining(), signal);
    } catch (err) {
      if (signal?.aborted === true) return this.unchanged();
      this.opts.metrics.rebuild('failure');
      logger.warn(this.errorFields(err), 'Discovery failed, keeping current schedules');
      return this.unchanged();
    }
    const outcomes = await mapBounded(namespaces, this.opts.concurrency ?? DEFAULT_CONCURRENCY, (ns) =>
      this.listNamespace(ns, remaining, signal),
    );
    // A pass cut short by shutdown is not a failure of the gateway: report and change nothing.
    if (signal?.aborted === true) return this.unchanged();
    const next = desiredState(outcomes, this.state);
    const plan = planChanges(this.state.functions, next.functions);
    this.rememberListings(outcomes);
    this.reportNamespaces(outcomes);
    this.reportRejections(next);
    this.apply(plan, next, outcomes);
    this.state = next;
    this.lastSuccess = clock.now();
    this.opts.metrics.rebuild('success');
    this.opts.metrics.scheduledFunctions(next.functions.size);
    const summary = {
      ok: true,
      namespaces: namespaces.length,
      functions: next.functions.size,
      schedules: this.opts.scheduler.size,
      added: plan.add.reduce((n, c) => n + c.schedules.length, 0),
      removed: plan.remove.reduce((n, c) => n + c.schedules.length, 0),
    };
    const fields = {
      namespaces: summary.namespaces,
      functions: summary.functions,
      schedules: summary.schedules,
      added: summary.added,
      removed: summary.removed,
      rejected: next.rejected.size, duration: formatDuration(clock.now() - started) };
    if (this.passes++ === 0) logger.info(fields, 'Discovery complete');
    else logger.debug(fields, 'Discovery complete');
    return summary;
  }

  private unchanged(): PassSummary {
    return { ok: false, namespaces: 0, functions: this.state.functions.size, schedules: this.opts.scheduler.size, added: 0, removed: 0 };
  }

  /** Unschedules everything (shutdown). */
  clear(): void {
    for (const fn of this.state.functions.values()) {
      for (const s of fn.schedules) this.opts.scheduler.remove(entryKey(fn, s));
    }
    this.state = EMPTY_STATE;
    this.listings = new Map();
  }

  /**
   * A namespace whose listing is byte for byte what it was last pass selects what it selected
   * then: it is neither parsed nor selected again (a steady pass at 100,000 functions is mostly
   * unchanged namespaces). Otherwise its functions are selected as soon as they arrive.
   */
  private async listNamespace(namespace: string, remaining: () => number, signal?: AbortSignal): Promise<Outcome> {
    try {
      const listing = await this.opts.client.fetchFunctionList(namespace, remaining(), signal);
      const digest = hash('sha256', listing.body, 'base64');
      const known = this.listings.get(namespace);
      if (known?.digest === digest) return { namespace, kind: 'selected', selection: known.selection, digest };
      const functions = parseFunctionList(listing.body, namespace, listing.path);
      return { namespace, kind: 'selected', selection: selectNamespace(functions, this.state, this.opts.defaults), digest };
    } catch (err) {
      if (isGone(err)) {
        const reason = err.status === 403 ? 'forbidden (403)' : 'not found (404)';
        return { namespace, kind: 'gone', reason, ...(err.hint === undefined ? {} : { hint: err.hint }) };
      }
      return { namespace, kind: 'failed', error: describeError(err), key: failureKey(err) };
    }
  }

  /** Keeps the digests of namespaces that answered; a failed one keeps its previous entry. */
  private rememberListings(outcomes: readonly Outcome[]): void {
    const listings = new Map<string, Listing>();
    for (const o of outcomes) {
      if (o.kind === 'selected' && o.digest !== undefined) listings.set(o.namespace, { digest: o.digest, selection: o.selection });
      else if (o.kind === 'failed') {
        const known = this.listings.get(o.namespace);
        if (known !== undefined) listings.set(o.namespace, known);
      }
    }
    this.listings = listings;
  }

  private errorFields(err: unknown): Record<string, unknown> {
    return {
      code: err instanceof ConnectorError ? err.code : undefined,
      error: describeError(err),
      hint: err instanceof ConnectorError ? err.hint : undefined,
    };
  }

  private functionsPerNamespace(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const fn of this.state.functions.values()) counts.set(fn.namespace, (counts.get(fn.namespace) ?? 0) + 1);
    return counts;
  }

  private reportNamespaces(outcomes: readonly NamespaceOutcome[]): void {
    const skipped = new Map<string, string>();
    const unreadable = new Map<string, { readonly key: string; readonly passes: number }>();
    const failed = outcomes.some((o) => o.kind === 'failed');
    const counts = failed ? this.functionsPerNamespace() : new Map<string, number>();
    for (const o of outcomes) {
      const before = this.unreadable.get(o.namespace);
      if (o.kind === 'failed') {
        const key = o.key ?? o.error;
        const passes = before?.key === key ? before.passes + 1 : 1;
        unreadable.set(o.namespace, { key, passes });
        const fields = { namespace: o.namespace, error: o.error, keptFunctions: counts.get(o.namespace) ?? 0, failedPasses: passes };
        if (passes === 1 || passes % UNREADABLE_REPORT_EVERY === 0) this.opts.logger.warn(fields, 'Namespace unreadable, keeping its schedules');
        else this.opts.logger.debug(fields, 'Namespace unreadable, keeping its schedules');
        continue;
      }
      if (before !== undefined) this.opts.logger.info({ namespace: o.namespace, failedPasses: before.passes }, 'Namespace readable again');
      if (o.kind === 'gone') {
        skipped.set(o.namespace, o.reason);
        if (this.skipped.get(o.namespace) !== o.reason) {
          this.opts.logger.info({ namespace: o.namespace, reason: o.reason, hint: o.hint }, 'Namespace skipped');
        }
      }
    }
    this.skipped = skipped;
    this.unreadable = unreadable;
  }

  private reportRejections(next: DesiredState): void {
    for (const r of next.rejected.values()) {
      if (this.state.rejected.get(r.id)?.signature === r.signature) continue;
      this.opts.logger.warn({ function: r.id, reason: r.reason }, 'Cannot schedule function');
    }
  }

  private removalReason(fn: DesiredFunction, next: DesiredState, outcomes: ReadonlyMap<string, NamespaceOutcome>): string {
    const outcome = outcomes.get(fn.namespace);
    if (outcome === undefined) return 'namespace no longer listed';
    if (outcome.kind === 'gone') return `namespace ${outcome.reason}`;
    if (next.functions.has(fn.id)) return 'schedule changed';
    if (next.rejected.has(fn.id)) return 'annotations no longer valid';
    return 'function deleted or no longer annotated';
  }

  private apply(plan: Plan, next: DesiredState, outcomes: readonly NamespaceOutcome[]): void {
    const { scheduler, logger } = this.opts;
    const byNamespace = new Map(outcomes.map((o) => [o.namespace, o]));
    let removed = 0;
    for (const { fn, schedules } of plan.remove) {
      const reason = removed < CHANGE_LINES_PER_PASS ? this.removalReason(fn, next, byNamespace) : '';
      for (const s of schedules) {
        scheduler.remove(entryKey(fn, s));
        if (removed++ < CHANGE_LINES_PER_PASS) logger.info({ function: fn.id, schedule: s.expression, reason }, 'Removed');
      }
    }
    if (removed > CHANGE_LINES_PER_PASS) {
      logger.info({ more: removed - CHANGE_LINES_PER_PASS, removed, hint: 'GET /schedules lists what is scheduled, a page at a time (?namespace=, ?function=, ?after=)' }, 'Removed more schedules');
    }
    for (const fn of plan.update) {
      for (const s of fn.schedules) scheduler.update(entryKey(fn, s), fn);
    }
    let added = 0;
    for (const { fn, schedules } of plan.add) {
      for (const s of schedules) {
        const next = scheduler.add(entryKey(fn, s), s, fn);
        if (added++ >= CHANGE_LINES_PER_PASS) continue;
        const fields = {
          function: fn.id,
          schedule: s.expression,
          next: next === undefined ? null : new Date(next).toISOString(),
          // the zone this schedule is computed in: a CRON_TZ= prefix's, or UTC for @every
          ...(s.timezone === 'UTC' ? {} : { timezone: s.timezone }),
          ...(fn.async ? { async: true } : {}),
        };
        logger.info(fields, 'Added');
      }
    }
    if (added > CHANGE_LINES_PER_PASS) {
      logger.info({ more: added - CHANGE_LINES_PER_PASS, added, hint: 'GET /schedules lists every schedule and its next fire times, a page at a time (?namespace=, ?function=, ?after=)' }, 'Added more schedules');
    }
  }
}
