/**
 * The one seam for time. Production uses the real clock; tests drive a manual one, so the
 * scheduling and renewal logic is tested without sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`. The handle never keeps the process alive by itself. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` on the next turn of the event loop (microsecond-scale, unlike a 1 ms timer). */
  soon(fn: () => void): TimerHandle;
}

/** Node caps timers at 2^31-1 ms; longer waits are chained. */
export const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  // The wall clock, not a monotonic one: cron slots are wall-clock instants, and "never early"
  // is judged against the same clock the nominal times come from.
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  soon(fn) {
    // Not unref'd: an unref'd immediate does not stop the event loop from blocking in poll until
    // the next timer or I/O, which would turn "next turn" into "some milliseconds later".
    const i = setImmediate(fn);
    return { cancel: () => clearImmediate(i) };
  },
};

/** Resolves after `ms` on the given clock (or at once when aborted). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const onAbort = (): void => {
      handle.cancel();
      resolve();
    };
    const handle = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
