/**
 * Turns fire events into invocations: Invoking, then Response (or a warning), with at most
 * max_inflight calls at once. Keeps track of calls in flight so shutdown can wait for them.
 */
import { sleep, type Clock } from './clock.ts';
import { formatDuration } from './duration.ts';
import { ConnectorError, describeError } from './errors.ts';
import type { GatewayClient } from './gateway/client.ts';
import { Limiter } from './limiter.ts';
import type { Logger } from './log.ts';
import type { DesiredFunction } from './schedule/annotations.ts';
import type { FireEvent } from './schedule/scheduler.ts';

export interface InvokerOptions {
  readonly client: GatewayClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxInflight: number;
  readonly upstreamTimeoutMs: number;
}

export class Invoker {
  private readonly opts: InvokerOptions;
  private readonly limiter: Limiter;
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(opts: InvokerOptions) {
    this.opts = opts;
    this.limiter = new Limiter(opts.maxInflight);
  }

  get inflight(): number {
    return this.pending.size;
  }

  /** Starts one invocation for a fire event; never throws. */
  fire(event: FireEvent<DesiredFunction>): void {
    const { payload: fn, schedule, nominal, missed } = event;
    if (missed > 0) {
      this.opts.logger.warn(
        { function: fn.id, schedule: schedule.expression, missed, firing: new Date(nominal).toISOString() },
        'Missed',
      );
    }
    const task = this.limiter.run(() => this.invoke(fn, schedule.expression, nominal));
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Waits for every call in flight, up to `timeoutMs`; returns how many were still running. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.pending.size === 0) return 0;
    const stopWaiting = new AbortController();
    const result = await Promise.race([
      Promise.allSettled([...this.pending]).then(() => 'done' as const),
      sleep(this.opts.clock, timeoutMs, stopWaiting.signal).then(() => 'timeout' as const),
    ]);
    stopWaiting.abort();
    const left = result === 'timeout' ? this.pending.size : 0;
    if (left > 0) this.abort.abort();
    return left;
  }

  private async invoke(fn: DesiredFunction, schedule: string, nominal: number): Promise<void> {
    const { logger, clock } = this.opts;
    const started = clock.now();
    logger.info({ function: fn.id, schedule, scheduled: new Date(nominal).toISOString() }, 'Invoking');
    try {
      const res = await this.opts.client.invoke({
        name: fn.name,
        namespace: fn.namespace,
        async: fn.async,
        topic: fn.topic,
        scheduledAt: nominal,
        timeoutMs: this.opts.upstreamTimeoutMs,
        signal: this.abort.signal,
      });
      const ok = fn.async ? res.status === 202 || (res.status >= 200 && res.status < 300) : res.status >= 200 && res.status < 300;
      const fields = {
        function: fn.id,
        status: res.status,
        bytes: res.bytes,
        duration: formatDuration(clock.now() - started),
        ...(res.callId === undefined ? {} : { callId: res.callId }),
      };
      if (ok) logger.info(fields, 'Response');
      else logger.warn({ ...fields, hint: responseHint(res.status) }, 'Response');
    } catch (err) {
      logger.warn(
        {
          function: fn.id,
          schedule,
          error: describeError(err),
          duration: formatDuration(clock.now() - started),
          hint: err instanceof ConnectorError ? err.hint : undefined,
        },
        'Invocation failed',
      );
    }
  }
}

function responseHint(status: number): string {
  if (status === 404) return 'the gateway does not know this function (deleted, or not ready yet)';
  if (status === 401 || status === 403) return 'the function requires authentication (jwt_auth) which this connector does not send';
  if (status === 429) return 'the function or gateway is throttling; lower the schedule frequency or raise its limits';
  if (status >= 500) return 'the function or the gateway failed; check the function logs (faas-cli logs)';
  return 'the function answered with an error status';
}
