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
import type { GatewayClient, InvokeReceiver, InvokeRequest, InvokeResult } from './gateway/client.ts';
import { isoMemo } from './iso-time.ts';
import { Fifo } from './fifo.ts';
import { plainInfoOf, type Logger, type PlainInfo } from './log.ts';
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
  readonly client: Pick<GatewayClient, 'invoke' | 'invokeTo' | 'warm'>;
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

/** One invocation of one slot, from fire to its last answer: the only object it allocates for its bookkeeping. */
interface Slot {
  readonly fn: DesiredFunction;
  readonly schedule: string;
  readonly nominal: number;
  /** The slot after this one is `compiled.next(after)`, computed when a retry needs it. */
  readonly compiled: CompiledSchedule;
  readonly after: number;
  /** Computed when the first attempt is built, not when the slot fires (a burst fires thousands). */
  executionId: string | undefined;
  /** Whether the progress record has been told the slot was handed over. */
  handed: boolean;
  /** Clock time of the first attempt. */
  started: number;
  /** Attempts sent so far. */
  attempts: number;
  /** Released: its counts given back (once, whatever path ends it). */
  settled: boolean;
}

/**
 * LastRun as kept in memory: numbers, formatted only when /schedules asks; updated in place, so a
 * burst allocates no new record per function (they would outlive the young generation).
 */
interface LastResult {
  scheduled: number;
  started: number;
  status: number | 'error';
  elapsed: number;
  attempts: number;
}

type Attempt = { readonly ok: true; readonly res: InvokeResult } | { readonly ok: false; readonly error: unknown };

/** An invocation connection idle this long may have been closed by the gateway (Node's default is 5 s). */
const WARM_IDLE_MS = 4_000;

const scheduledIso = isoMemo();

export class Invoker {
  private readonly opts: InvokerOptions;
  /** Slots waiting for one of the max_inflight places, in the order they fired. */
  private readonly waiting = new Fifo<Slot>();
  /** Slots holding a place (sending, waiting for an answer or for a retry's backoff). */
  private active = 0;
  /** Slots started and not settled: waiting for a jitter offset or a place, or active. */
  private pending = 0;
  private pumping = false;
  private readonly running = new Map<string, number>();
  private readonly last = new Map<string, LastResult>();
  private readonly abort = new AbortController();
  private lastSent = Number.NEGATIVE_INFINITY;
  /** Told when `pending` falls to 0 (drain). */
  private idle: (() => void) | undefined;
  /** logger.info for the Invoking and Response lines (two per invocation; see plainInfoOf). */
  private readonly info: PlainInfo;
  /** Where the answers to requests sent without a per-function token come: one object for all. */
  private readonly answers: InvokeReceiver<Slot> = {
    answered: (res, slot) => this.outcome(slot, { ok: true, res }),
    failed: (error, slot) => this.outcome(slot, { ok: false, error }),
  };

  constructor(opts: InvokerOptions) {
    this.opts = opts;
    this.info = plainInfoOf(opts.logger);
    // every slot waiting out a jitter offset or a retry's backoff listens for shutdown on this
    // signal (thousands on a jittered slot); requests share one listener (src/gateway/http.ts)
    setMaxListeners(0, this.abort.signal);
  }

  get inflight(): number {
    return this.pending;
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
    const { payload: fn, schedule, nominal, missed, missedFrom, after } = event;
    if (missed === 0) {
      this.start(fn, schedule, nominal, after);
      return;
    }
    if (missedFrom === undefined) {
      // the scheduler did not say where the missed slots began: the latest runs, the rest are counted
      this.reportMissed(fn, schedule, missed, [nominal], undefined);
      this.start(fn, schedule, nominal, after);
      return;
    }
    this.catchUp(fn, schedule, missedFrom, nominal, after);
  }

  /**
   * Runs the missed slots of `schedule` in [fromMs, toMs] that the function's catch-up policy
   * keeps (docs/adr/0007), oldest first; counts and reports the others. The slot after the last
   * one is `schedule.next(after)` when `after` is given (the fire event's), else each slot's own next.
   */
  catchUp(fn: DesiredFunction, schedule: CompiledSchedule, fromMs: number, toMs: number, after?: number): void {
    const plan = planCatchUp(schedule, fromMs, toMs, fn);
    if (plan.skipped > 0 || plan.run.length > 1) this.reportMissed(fn, schedule, plan.skipped, plan.run, fromMs, plan.countTruncated);
    const last = plan.run[plan.run.length - 1];
    for (const nominal of plan.run) this.start(fn, schedule, nominal, nominal === last && after !== undefined ? after : nominal);
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

  /**
   * Starts one invocation of one slot. The hot path of a burst: no promise of its own and no
   * closure per slot until the request is on its way (docs/adr/0005).
   */
  private start(fn: DesiredFunction, compiled: CompiledSchedule, nominal: number, after: number): void {
    const expression = compiled.expression;
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
    const slot: Slot = { fn, schedule: expression, nominal, compiled, after, executionId: undefined, handed: false, started: 0, attempts: 0, settled: false };
    if (fn.concurrency === 'forbid') this.running.set(fn.id, (this.running.get(fn.id) ?? 0) + 1);
    this.pending++;
    if (fn.jitterOffsetMs > 0) {
      // the offset counts from the nominal time: a slot run late (catch-up) waits only what is left of it
      sleep(this.opts.clock, Math.max(0, nominal + fn.jitterOffsetMs - this.opts.clock.now()), this.abort.signal).then(
        () => this.admit(slot),
        (err: unknown) => this.crashed(slot, err, false),
      );
      return;
    }
    this.admit(slot);
  }

  /** Queues a slot for a place among max_inflight and starts what fits, oldest first. */
  private admit(slot: Slot): void {
    this.waiting.push(slot);
    this.pump();
  }

  private pump(): void {
    // a slot that ends at once (aborted, no longer leading) frees its place inside begin(): the
    // loop, not recursion, starts the next one
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.active < this.opts.maxInflight) {
        const next = this.waiting.shift();
        if (next === undefined) break;
        this.active++;
        try {
          this.begin(next);
        } catch (err) {
          this.crashed(next, err, true);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A slot that got its place: its first attempt, then the Invoking line and the lateness. */
  private begin(slot: Slot): void {
    const { logger, clock, metrics } = this.opts;
    if (this.abort.signal.aborted || this.opts.progress?.mayStart?.() === false) {
      this.release(slot, true);
      return;
    }
    slot.started = clock.now();
    this.attempt(slot);
    // The request is on its way (undici writes it on the next tick); the bookkeeping comes after,
    // and a throw in it must not end a slot whose answer is still to come.
    try {
      metrics.lateness((slot.started - slot.nominal - slot.fn.jitterOffsetMs) / 1000);
      this.info({ function: slot.fn.id, schedule: slot.schedule, scheduled: scheduledIso(slot.nominal) }, 'Invoking');
    } catch (err) {
      logger.error({ function: slot.fn.id, error: describeError(err) }, 'Invocation crashed');
    }
  }

  /** Sends the slot's next attempt; its outcome comes back to outcome(). */
  private attempt(slot: Slot): void {
    slot.attempts++;
    if (this.opts.functionTokens !== undefined) {
      this.attemptWithToken(slot, slot.attempts).then(
        (o) => this.outcome(slot, o),
        (error: unknown) => this.outcome(slot, { ok: false, error }),
      );
      return;
    }
    // without per-function tokens the request is built and handed to undici synchronously, and
    // its answer comes back to outcome() with no promise in between
    this.opts.client.invokeTo(this.request(slot, slot.attempts, undefined), this.answers, slot);
    this.sent(slot);
  }

  /** How long to wait before retrying `outcome`, or undefined when it must not be retried. */
  private retryWait(outcome: Attempt, retry: number): number | undefined {
    if (outcome.ok) {
      if (!RETRYABLE_STATUSES.has(outcome.res.status)) return undefined;
      return retryDelay(retry, parseRetryAfter(outcome.res.headers['retry-after'], this.opts.clock.now()));
    }
    return isRetryableError(outcome.error) ? retryDelay(retry, undefined) : undefined;
  }

  private async attemptWithToken(slot: Slot, attempt: number): Promise<Attempt> {
    try {
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

  /** An attempt ended: retry it after its backoff, or report the slot and free its place. */
  private outcome(slot: Slot, outcome: Attempt): void {
    try {
      const { logger, clock, metrics } = this.opts;
      const { fn } = slot;
      const retry = slot.attempts;
      if (retry <= fn.retries && !this.abort.signal.aborted) {
        const wait = this.retryWait(outcome, retry);
        if (wait !== undefined) {
          if (clock.now() + wait >= (slot.compiled.next(slot.after) ?? Number.POSITIVE_INFINITY)) {
            logger.warn({ function: fn.id, attempts: retry, reason: 'the next slot is due before another attempt' }, 'Giving up retries');
          } else {
            logger.warn({ function: fn.id, attempt: retry, ...describeOutcome(outcome), retryIn: formatDuration(wait) }, 'Retrying');
            metrics.retry(fn);
            sleep(clock, wait, this.abort.signal).then(
              () => {
                if (this.abort.signal.aborted) this.finish(slot, outcome);
                else this.attempt(slot);
              },
              (err: unknown) => this.crashed(slot, err, true),
            );
            return;
          }
        }
      }
      this.finish(slot, outcome);
    } catch (err) {
      this.crashed(slot, err, true);
    }
  }

  private finish(slot: Slot, outcome: Attempt): void {
    this.release(slot, true);
    // the next waiting slot's request goes out before this one's log line and metrics
    this.pump();
    try {
      this.report(slot, outcome, slot.started, slot.attempts);
    } catch (err) {
      this.opts.logger.error({ function: slot.fn.id, error: describeError(err) }, 'Invocation crashed');
    }
  }

  /** A throw where none is expected is a bug: logged, and the slot's place freed, rather than left unhandled. */
  private crashed(slot: Slot, err: unknown, placed: boolean): void {
    this.opts.logger.error({ function: slot.fn.id, error: describeError(err) }, 'Invocation crashed');
    this.release(slot, placed);
    this.pump();
  }

  /** The slot is settled: its place (when it had one) and its count are given back, once. */
  private release(slot: Slot, placed: boolean): void {
    if (slot.settled) return;
    slot.settled = true;
    if (placed) this.active--;
    this.pending--;
    if (slot.fn.concurrency === 'forbid') {
      const left = (this.running.get(slot.fn.id) ?? 1) - 1;
      if (left > 0) this.running.set(slot.fn.id, left);
      else this.running.delete(slot.fn.id);
    }
    if (this.pending === 0) this.idle?.();
  }

  /** Waits for every call in flight, up to `timeoutMs`; returns how many were still running. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.pending === 0) {
      this.abort.abort();
      return 0;
    }
    const stopWaiting = new AbortController();
    const result = await Promise.race([
      new Promise<'done'>((resolve) => {
        this.idle = () => resolve('done');
      }),
      sleep(this.opts.clock, timeoutMs, stopWaiting.signal).then(() => 'timeout' as const),
    ]);
    this.idle = undefined;
    stopWaiting.abort();
    const left = result === 'timeout' ? this.pending : 0;
    // ends what is left, and any connection warm-up; slots still waiting for a place never start
    this.abort.abort();
    this.pump();
    return left;
  }

  private functionToken(fn: DesiredFunction): Promise<string | undefined> {
    return this.opts.functionTokens?.authorization(fn.namespace, fn.name) ?? Promise.resolve(undefined);
  }

  private send(slot: Slot, attempt: number, authorization: string | undefined): Promise<InvokeResult> {
    const sent = this.opts.client.invoke(this.request(slot, attempt, authorization));
    this.sent(slot);
    return sent;
  }

  /** After the first request is handed to undici (not before), the progress record hears of it. */
  private sent(slot: Slot): void {
    if (slot.handed) return;
    slot.handed = true;
    this.opts.progress?.handed(slot.nominal);
  }

  /** The request of one attempt. */
  private request(slot: Slot, attempt: number, authorization: string | undefined): InvokeRequest {
    slot.executionId ??= executionId(slot.fn.id, slot.schedule, slot.nominal);
    this.lastSent = this.opts.clock.now();
    const req: InvokeRequest = {
      name: slot.fn.name,
      namespace: slot.fn.namespace,
      async: slot.fn.async,
      topic: slot.fn.topic,
      scheduledAt: slot.nominal,
      attempt,
      executionId: slot.executionId,
      timeoutMs: this.opts.upstreamTimeoutMs,
      signal: this.abort.signal,
      authorization,
    };
    return req;
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
    const status = outcome.ok ? outcome.res.status : 'error';
    const last = this.last.get(fn.id);
    if (last === undefined) this.last.set(fn.id, { scheduled: slot.nominal, started, status, elapsed, attempts });
    else {
      last.scheduled = slot.nominal;
      last.started = started;
      last.status = status;
      last.elapsed = elapsed;
      last.attempts = attempts;
    }
    metrics.invocation(fn, String(status), elapsed / 1000);
    if (!outcome.ok) {
      const hint = outcome.error instanceof ConnectorError ? outcome.error.hint : undefined;
      const fields = { function: fn.id, schedule: slot.schedule, error: describeError(outcome.error), duration, attempts: attempts > 1 ? attempts : undefined, hint };
      logger.warn(fields, 'Invocation failed');
      return;
    }
    const { res } = outcome;
    // one object, fields in the documented order; pino leaves out the undefined ones
    const fields = { function: fn.id, status: res.status, bytes: res.bytes, duration, attempts: attempts > 1 ? attempts : undefined, callId: res.callId, hint: undefined as string | undefined };
    if (res.status >= 200 && res.status < 300) {
      this.info(fields, 'Response');
      return;
    }
    fields.hint = hintOf(invocationStatus(res.status, this.opts.functionTokens !== undefined));
    logger.warn(fields, 'Response');
  }
}

function describeOutcome(outcome: Attempt): Record<string, unknown> {
  return outcome.ok ? { status: outcome.res.status } : { error: describeError(outcome.error) };
}
