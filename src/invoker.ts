/**
 * Turns fire events into invocations with the delivery policy (docs/adr/0004):
 * - at most max_inflight calls at once; the rest wait, none is dropped;
 * - concurrency=forbid skips a slot while the function's previous call is still running;
 * - com.openfaas.cron.jitter delays each slot by a fixed per-function offset (never earlier);
 * - network errors and 429/502/503/504 are retried with backoff and jitter, honouring
 *   Retry-After, never past the function's next slot;
 * - every attempt carries X-Cron-Attempt and a stable X-Cron-Execution-Id;
 * - with jwt_auth, a per-function token is sent; a refused one is renewed once.
 * Logs Invoking, then Response (or Invocation failed), and keeps the last result per function.
 */
import type { FunctionTokens } from './auth/function-tokens.ts';
import { setMaxListeners } from 'node:events';
import { sleep, type Clock } from './clock.ts';
import { hintOf, invocationStatus } from './diagnosis.ts';
import { executionId, isRetryableError, parseRetryAfter, retryDelay, RETRYABLE_STATUSES } from './delivery.ts';
import { formatDuration } from './duration.ts';
import { ConnectorError, describeError } from './errors.ts';
import type { GatewayClient, InvokeResult } from './gateway/client.ts';
import { isoMemo } from './iso-time.ts';
import { Limiter } from './limiter.ts';
import type { Logger } from './log.ts';
import type { MetricsSink } from './metrics.ts';
import type { DesiredFunction } from './schedule/annotations.ts';
import { planCatchUp } from './schedule/catchup.ts';
import type { CompiledSchedule } from './schedule/cron.ts';
import type { FireEvent } from './schedule/scheduler.ts';

/**
 * Told when a slot is taken on and when it has been handed to the gateway (its first request
 * sent) or settled without one (skipped): the leader's progress record follows these.
 */
export interface SlotProgress {
  opened(nominal: number): void;
  handed(nominal: number): void;
  /**
   * Asked just before a slot's first request (after its jitter offset and its wait for a free
   * connection): false drops it unsent (this replica no longer leads; the next leader runs it).
   */
  mayStart?(): boolean;
}

export interface InvokerOptions {
  /** The gateway calls an invoker makes (a GatewayClient; tests pass a fake). */
  readonly client: Pick<GatewayClient, 'invoke' | 'warm'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  readonly maxInflight: number;
  readonly upstreamTimeoutMs: number;
  /** Present when jwt_auth is on (IAM mode). */
  readonly functionTokens?: FunctionTokens;
  /** Present with leader election. */
  readonly progress?: SlotProgress;
}

/** The outcome of a function's latest slot, for /schedules. */
export interface LastRun {
  readonly scheduled: string;
  readonly time: string;
  readonly status: number | 'error';
  readonly duration: number;
  readonly attempts: number;
}

interface Slot {
  readonly fn: DesiredFunction;
  readonly schedule: string;
  readonly nominal: number;
  /** The slot after this one, computed when a retry needs it. */
  readonly following: () => number | undefined;
  /** Computed when the first attempt is built, not when the slot fires (a burst fires thousands). */
  executionId: string | undefined;
  /** Whether the progress record has been told the slot was handed over. */
  handed: boolean;
}

/** LastRun as kept in memory: numbers, formatted only when /schedules asks. */
interface LastResult {
  readonly scheduled: number;
  readonly started: number;
  readonly status: number | 'error';
  readonly elapsed: number;
  readonly attempts: number;
}

type Attempt = { readonly ok: true; readonly res: InvokeResult } | { readonly ok: false; readonly error: unknown };

/** An invocation connection idle this long may have been closed by the gateway (Node's default is 5 s). */
const WARM_IDLE_MS = 4_000;

const scheduledIso = isoMemo();

export class Invoker {
  private readonly opts: InvokerOptions;
  private readonly limiter: Limiter;
  private readonly pending = new Set<Promise<void>>();
  private readonly running = new Map<string, number>();
  private readonly last = new Map<string, LastResult>();
  private readonly abort = new AbortController();
  private lastSent = Number.NEGATIVE_INFINITY;

  constructor(opts: InvokerOptions) {
    this.opts = opts;
    this.limiter = new Limiter(opts.maxInflight);
    // every call in flight listens for shutdown on this signal: up to max_inflight listeners
    setMaxListeners(0, this.abort.signal);
  }

  get inflight(): number {
    return this.pending.size;
  }

  lastRun(functionId: string): LastRun | undefined {
    const r = this.last.get(functionId);
    if (r === undefined) return undefined;
    return {
      scheduled: new Date(r.scheduled).toISOString(),
      time: new Date(r.started).toISOString(),
      status: r.status,
      duration: r.elapsed / 1000,
      attempts: r.attempts,
    };
  }

  /** Forgets the last results of functions no longer scheduled, so churn does not grow memory. */
  retainOnly(scheduled: ReadonlyMap<string, unknown>): void {
    for (const id of this.last.keys()) if (!scheduled.has(id)) this.last.delete(id);
    this.opts.metrics.retainOnly(scheduled);
  }

  /**
   * Called shortly before a slot that `due` functions share. When no call went out recently, the
   * keep-alive connections may be gone: cheap concurrent requests (the gateway's GET /healthz, one
   * per connection the slot will use, up to max_inflight) open fresh ones now, so the slot does
   * not pay for TCP (and TLS) handshakes. Never throws; a failure only shows at debug.
   */
  prepare(due = 1): void {
    const now = this.opts.clock.now();
    if (now - this.lastSent < WARM_IDLE_MS || this.abort.signal.aborted) return;
    this.lastSent = now;
    // as many connections as the slot will use at once (undici opens one per concurrent request)
    const connections = Math.max(1, Math.min(due, this.opts.maxInflight));
    for (let i = 0; i < connections; i++) {
      this.opts.client.warm(this.abort.signal).catch((err: unknown) => {
        if (i === 0) this.opts.logger.debug({ error: describeError(err) }, 'Connection warm-up failed');
      });
    }
  }

  /** Starts the invocation(s) for a fire event; never throws. */
  fire(event: FireEvent<DesiredFunction>): void {
    const { payload: fn, schedule, nominal, missed, missedFrom, following } = event;
    if (missed === 0) {
      this.start(fn, schedule.expression, nominal, following);
      return;
    }
    if (missedFrom === undefined) {
      // the scheduler did not say where the missed slots began: the latest runs, the rest are counted
      this.reportMissed(fn, schedule, missed, [nominal], undefined);
      this.start(fn, schedule.expression, nominal, following);
      return;
    }
    this.catchUp(fn, schedule, missedFrom, nominal, following);
  }

  /**
   * Runs the missed slots of `schedule` in [fromMs, toMs] that the function's catch-up policy
   * keeps (docs/adr/0007), oldest first; counts and reports the others. `following` is the slot
   * after `toMs` when known.
   */
  catchUp(fn: DesiredFunction, schedule: CompiledSchedule, fromMs: number, toMs: number, following?: () => number | undefined): void {
    const plan = planCatchUp(schedule, fromMs, toMs, fn);
    if (plan.skipped > 0 || plan.run.length > 1) this.reportMissed(fn, schedule, plan.skipped, plan.run, fromMs, plan.countTruncated);
    for (const nominal of plan.run) {
      const next = nominal === plan.run[plan.run.length - 1] && following !== undefined ? following : () => schedule.next(nominal);
      this.start(fn, schedule.expression, nominal, next);
    }
  }

  private reportMissed(fn: DesiredFunction, schedule: CompiledSchedule, skipped: number, run: readonly number[], since: number | undefined, truncated = false): void {
    const { logger, metrics } = this.opts;
    if (skipped > 0) metrics.skipped('missed', skipped);
    const latest = run[run.length - 1];
    logger.warn(
      {
        function: fn.id,
        schedule: schedule.expression,
        missed: truncated ? `${skipped}+` : skipped,
        catchup: fn.catchup,
        ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
        ...(latest === undefined ? {} : { running: run.length, firing: new Date(latest).toISOString() }),
      },
      'Missed',
    );
  }

  /** Starts one invocation of one slot. */
  private start(fn: DesiredFunction, expression: string, nominal: number, following: () => number | undefined): void {
    const { logger, metrics, progress } = this.opts;
    progress?.opened(nominal);
    if (fn.concurrency === 'forbid' && (this.running.get(fn.id) ?? 0) > 0) {
      metrics.skipped('overlap');
      logger.warn(
        { function: fn.id, schedule: expression, scheduled: new Date(nominal).toISOString(), reason: 'previous invocation still running (concurrency=forbid)' },
        'Skipped',
      );
      progress?.handed(nominal);
      return;
    }
    const slot: Slot = { fn, schedule: expression, nominal, following, executionId: undefined, handed: false };
    this.running.set(fn.id, (this.running.get(fn.id) ?? 0) + 1);
    const started =
      fn.jitterOffsetMs > 0
        ? // the offset counts from the nominal time: a slot run late (catch-up) waits only what is left of it
          sleep(this.opts.clock, Math.max(0, nominal + fn.jitterOffsetMs - this.opts.clock.now()), this.abort.signal).then(() => this.limiter.run(() => this.deliver(slot)))
        : this.limiter.run(() => this.deliver(slot));
    // deliver() reports its own failures; a throw here is a bug, logged rather than left unhandled
    const task: Promise<void> = started.then(
      () => this.settled(task, fn.id),
      (err: unknown) => {
        logger.error({ function: fn.id, error: describeError(err) }, 'Invocation crashed');
        this.settled(task, fn.id);
      },
    );
    this.pending.add(task);
  }

  private settled(task: Promise<void>, functionId: string): void {
    this.pending.delete(task);
    const left = (this.running.get(functionId) ?? 1) - 1;
    if (left > 0) this.running.set(functionId, left);
    else this.running.delete(functionId);
  }

  /** Waits for every call in flight, up to `timeoutMs`; returns how many were still running. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.pending.size === 0) {
      this.abort.abort();
      return 0;
    }
    const stopWaiting = new AbortController();
    const result = await Promise.race([
      Promise.allSettled([...this.pending]).then(() => 'done' as const),
      sleep(this.opts.clock, timeoutMs, stopWaiting.signal).then(() => 'timeout' as const),
    ]);
    stopWaiting.abort();
    const left = result === 'timeout' ? this.pending.size : 0;
    // ends what is left, and any connection warm-up
    this.abort.abort();
    return left;
  }

  private async deliver(slot: Slot): Promise<void> {
    const { logger, clock, metrics } = this.opts;
    const { fn } = slot;
    if (this.abort.signal.aborted) return;
    if (this.opts.progress?.mayStart?.() === false) return;
    const started = clock.now();
    let attempt = 1;
    const first = this.attempt(slot, attempt);
    // The request is on its way (undici writes it on the next tick); the bookkeeping comes after.
    metrics.lateness((started - slot.nominal - fn.jitterOffsetMs) / 1000);
    logger.info({ function: fn.id, schedule: slot.schedule, scheduled: scheduledIso(slot.nominal) }, 'Invoking');
    let outcome = await first;
    for (; attempt <= fn.retries && !this.abort.signal.aborted; attempt++) {
      const wait = this.retryWait(outcome, attempt);
      if (wait === undefined) break;
      if (clock.now() + wait >= (slot.following() ?? Number.POSITIVE_INFINITY)) {
        logger.warn({ function: fn.id, attempts: attempt, reason: 'the next slot is due before another attempt' }, 'Giving up retries');
        break;
      }
      logger.warn({ function: fn.id, attempt, ...describeOutcome(outcome), retryIn: formatDuration(wait) }, 'Retrying');
      metrics.retry(fn);
      await sleep(clock, wait, this.abort.signal);
      if (this.abort.signal.aborted) break;
      outcome = await this.attempt(slot, attempt + 1);
    }
    this.report(slot, outcome, started, attempt);
  }

  /** How long to wait before retrying `outcome`, or undefined when it must not be retried. */
  private retryWait(outcome: Attempt, retry: number): number | undefined {
    if (outcome.ok) {
      if (!RETRYABLE_STATUSES.has(outcome.res.status)) return undefined;
      return retryDelay(retry, parseRetryAfter(outcome.res.headers['retry-after'], this.opts.clock.now()));
    }
    return isRetryableError(outcome.error) ? retryDelay(retry, undefined) : undefined;
  }

  private async attempt(slot: Slot, attempt: number): Promise<Attempt> {
    try {
      // Without per-function tokens the request is built and handed to undici synchronously.
      if (this.opts.functionTokens === undefined) return { ok: true, res: await this.send(slot, attempt, undefined) };
      let authorization = await this.functionToken(slot.fn);
      let res = await this.send(slot, attempt, authorization);
      if (res.status === 401 && authorization !== undefined && this.opts.functionTokens !== undefined) {
        this.opts.functionTokens.invalidate(slot.fn.namespace, slot.fn.name, authorization);
        authorization = await this.functionToken(slot.fn);
        res = await this.send(slot, attempt, authorization);
      }
      return { ok: true, res };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private functionToken(fn: DesiredFunction): Promise<string | undefined> {
    return this.opts.functionTokens?.authorization(fn.namespace, fn.name) ?? Promise.resolve(undefined);
  }

  private send(slot: Slot, attempt: number, authorization: string | undefined): Promise<InvokeResult> {
    slot.executionId ??= executionId(slot.fn.id, slot.schedule, slot.nominal);
    this.lastSent = this.opts.clock.now();
    const sent = this.opts.client.invoke({
      name: slot.fn.name,
      namespace: slot.fn.namespace,
      async: slot.fn.async,
      topic: slot.fn.topic,
      scheduledAt: slot.nominal,
      attempt,
      executionId: slot.executionId,
      timeoutMs: this.opts.upstreamTimeoutMs,
      signal: this.abort.signal,
      ...(authorization === undefined ? {} : { authorization }),
    });
    if (!slot.handed) {
      // after invoke(): the request is handed to undici before the record hears of it
      slot.handed = true;
      this.opts.progress?.handed(slot.nominal);
    }
    return sent;
  }

  private report(slot: Slot, outcome: Attempt, started: number, attempts: number): void {
    const { logger, clock, metrics } = this.opts;
    const { fn } = slot;
    if (!slot.handed) {
      // settled without a request (no token for the function): the slot is done, not pending
      slot.handed = true;
      this.opts.progress?.handed(slot.nominal);
    }
    const elapsed = clock.now() - started;
    const duration = formatDuration(elapsed);
    const tries = attempts > 1 ? { attempts } : {};
    const status = outcome.ok ? outcome.res.status : 'error';
    this.last.set(fn.id, { scheduled: slot.nominal, started, status, elapsed, attempts });
    metrics.invocation(fn, String(status), elapsed / 1000);
    if (!outcome.ok) {
      const hint = outcome.error instanceof ConnectorError ? outcome.error.hint : undefined;
      logger.warn({ function: fn.id, schedule: slot.schedule, error: describeError(outcome.error), duration, ...tries, hint }, 'Invocation failed');
      return;
    }
    const { res } = outcome;
    const fields = { function: fn.id, status: res.status, bytes: res.bytes, duration, ...tries, ...(res.callId === undefined ? {} : { callId: res.callId }) };
    if (res.status >= 200 && res.status < 300) logger.info(fields, 'Response');
    else logger.warn({ ...fields, hint: hintOf(invocationStatus(res.status, this.opts.functionTokens !== undefined)) }, 'Response');
  }
}

function describeOutcome(outcome: Attempt): Record<string, unknown> {
  return outcome.ok ? { status: outcome.res.status } : { error: describeError(outcome.error) };
}
