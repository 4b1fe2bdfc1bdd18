/**
 * The discovery loop: a pass at start-up, then one every rebuild_interval, for as long as the
 * connector runs.
 * - A pass that fails (the gateway is down, the token is refused) is retried with capped
 *   exponential backoff, never more often than rebuild_interval: a gateway that stays down costs
 *   a bounded number of requests and log lines, however short the interval.
 * - A pass that throws (a bug) is logged with its error and retried the same way: discovery
 *   never ends while the process runs.
 * - It knows when it should next show progress; liveness() says when it did not, so /healthz
 *   fails and the kubelet restarts a connector whose discovery is stuck.
 * - wake() starts the next pass now (e.g. once credentials recover).
 */
import { setMaxListeners } from 'node:events';
import { backoffDelay } from './auth/iam.ts';
import { sleep, type Clock } from './clock.ts';
import { formatDuration } from './duration.ts';
import { describeError } from './errors.ts';
import type { Logger } from './log.ts';

export interface DiscoveryLoopOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs: number;
  /** rebuild_timeout: how long one pass may take. */
  readonly timeoutMs: number;
  /** One pass; resolves true when it read the gateway, false when it failed (and logged why). */
  readonly pass: (signal: AbortSignal) => Promise<boolean>;
  readonly random?: () => number;
  /**
   * Monotonic milliseconds for judging progress (performance.now): the waits are timers, which
   * a wall-clock step (NTP, a resumed VM) does not move, so liveness must not be moved by one either.
   */
  readonly monotonic?: () => number;
}

export const FAILURE_BACKOFF_BASE_MS = 1_000;
export const FAILURE_BACKOFF_CAP_MS = 60_000;
/**
 * Margin over a pass's own bound (rebuild_timeout; credentials may add a token exchange and its
 * retry) and over a planned wait, before the loop counts as stuck.
 */
export const STALL_SLACK_MS = 60_000;

/**
 * The wait after `failures` failed passes in a row (0: the last pass worked): the interval, or
 * exponential backoff from 1 s with ±20% jitter up to 60 s when that is longer.
 */
export function waitAfter(failures: number, intervalMs: number, random: () => number = Math.random): number {
  if (failures === 0) return intervalMs;
  return Math.max(intervalMs, backoffDelay(failures, random, { baseMs: FAILURE_BACKOFF_BASE_MS, capMs: FAILURE_BACKOFF_CAP_MS }));
}

export class DiscoveryLoop {
  private readonly opts: DiscoveryLoopOptions;
  private readonly stopping = new AbortController();
  private wakeUp = new AbortController();
  private running: Promise<void> | undefined;
  /** When the loop should next have started or finished something; past it, the loop is stuck. */
  private expectBy = Number.POSITIVE_INFINITY;
  private failures = 0;
  private ended: string | undefined;
  private readonly monotonic: () => number;

  constructor(opts: DiscoveryLoopOptions) {
    this.opts = opts;
    this.monotonic = opts.monotonic ?? (() => performance.now());
    // every listing of a pass in flight listens for shutdown on this signal
    setMaxListeners(0, this.stopping.signal);
  }

  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      // run() catches everything a pass throws; reaching this is a bug in the loop itself
      this.ended = `the discovery loop ended: ${describeError(err)}`;
      this.opts.logger.error({ error: describeError(err) }, 'Discovery loop ended');
    });
  }

  /** Starts the next pass now, or as soon as the current one ends. */
  wake(): void {
    this.wakeUp.abort();
  }

  /** Ends the loop: a pass in flight is aborted; resolves once it has returned. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeUp.abort();
    await this.running;
  }

  /** Undefined while discovery makes progress, else why not (for /healthz). */
  liveness(): string | undefined {
    if (this.ended !== undefined) return this.ended;
    const late = this.monotonic() - this.expectBy;
    if (late <= 0 || this.stopping.signal.aborted) return undefined;
    return `discovery has made no progress for ${formatDuration(late + STALL_SLACK_MS)} beyond its plan (rebuild_interval ${formatDuration(this.opts.intervalMs)}, rebuild_timeout ${formatDuration(this.opts.timeoutMs)})`;
  }

  private async run(): Promise<void> {
    const { clock, logger } = this.opts;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const started = clock.now();
      this.expectBy = this.monotonic() + this.opts.timeoutMs + STALL_SLACK_MS;
      let ok: boolean;
      try {
        ok = await this.opts.pass(signal);
      } catch (err) {
        if (signal.aborted) return;
        ok = false;
        logger.error({ error: describeError(err), attempt: this.failures + 1 }, 'Discovery pass crashed, keeping current schedules');
      }
      if (signal.aborted) return;
      this.failures = ok ? 0 : this.failures + 1;
      const planned = waitAfter(this.failures, this.opts.intervalMs, this.opts.random);
      // woken during the pass: go again at once; else a pass that worked waits out the rest of
      // its interval, and a failed one the whole backoff
      const woken = this.wakeUp.signal.aborted;
      if (woken) this.wakeUp = new AbortController();
      const wait = woken ? 0 : ok ? Math.max(0, started + planned - clock.now()) : planned;
      if (this.failures > 0) logger.debug({ failures: this.failures, retryIn: formatDuration(wait) }, 'Next discovery pass');
      this.expectBy = this.monotonic() + wait + STALL_SLACK_MS;
      if (wait > 0) await sleep(clock, wait, this.wakeUp.signal);
      // a wake while waiting has been used up by ending the wait
      if (this.wakeUp.signal.aborted && !signal.aborted) this.wakeUp = new AbortController();
    }
  }
}
