import { describe, expect, it } from 'vitest';
import { DiscoveryLoop, FAILURE_BACKOFF_CAP_MS, STALL_SLACK_MS, waitAfter } from '../../src/discovery-loop.ts';
import { deferred, flushMicrotasks } from '../helpers/async.ts';
import { captureLogs } from '../helpers/logs.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

const T0 = Date.parse('2026-12-02T10:00:00Z');

/** A loop whose passes answer from `outcomes` in turn (true, false, or an error to throw), recording when each started. */
function loopWith(outcomes: Array<boolean | Error | Promise<boolean>>, intervalMs = 1000, timeoutMs = 10_000) {
  const clock = new ManualClock(T0);
  const logs = captureLogs();
  const starts: number[] = [];
  const loop = new DiscoveryLoop({
    clock,
    logger: logs.logger,
    intervalMs,
    timeoutMs,
    random: () => 0.5,
    monotonic: () => clock.now(),
    pass: () => {
      starts.push(clock.now() - T0);
      const next = outcomes.shift() ?? true;
      if (next instanceof Error) return Promise.reject(next);
      return Promise.resolve(next);
    },
  });
  /** Moves the clock `ms` at a time, letting each pass settle. */
  const advance = async (ms: number, step = 100): Promise<void> => {
    for (let moved = 0; moved < ms; moved += step) {
      clock.advance(step);
      await flushMicrotasks();
    }
  };
  return { clock, logs, starts, loop, advance };
}

describe('discovery loop', () => {
  it('should back off failed passes from 1 s doubling to 60 s, never below the interval, and reset after a success', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => waitAfter(n, 1000, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(waitAfter(0, 1000)).toBe(1000);
    expect(waitAfter(3, 30_000, () => 0.5)).toBe(30_000);
    expect(waitAfter(9, 300_000, () => 0.5)).toBe(300_000);
    expect(waitAfter(7, 1000, () => 0)).toBe(48_000);
    expect(waitAfter(7, 1000, () => 1)).toBe(FAILURE_BACKOFF_CAP_MS * 1.2);
  });

  it('should run a pass at once, then one every interval while they work', async () => {
    const t = loopWith([]);
    t.loop.start();
    await flushMicrotasks();
    await t.advance(3000);
    expect(t.starts).toEqual([0, 1000, 2000, 3000]);
    await t.loop.stop();
  });

  it('should space failed passes by the backoff, so a gateway that stays down costs few requests and lines', async () => {
    const t = loopWith([false, false, false, false, true, true]);
    t.loop.start();
    await flushMicrotasks();
    await t.advance(20_000);
    // failures at 0, 1 s, 3 s, 7 s; success at 15 s; then the interval again
    expect(t.starts.slice(0, 7)).toEqual([0, 1000, 3000, 7000, 15_000, 16_000, 17_000]);
    await t.loop.stop();
  });

  it('should log a pass that throws, keep the schedules and try again after the backoff, not the interval', async () => {
    const t = loopWith([new Error('apply() blew up'), true], 100);
    t.loop.start();
    await flushMicrotasks();
    await t.advance(1200);
    expect(t.starts).toEqual([0, 1000, 1100, 1200]);
    expect(t.logs.named('Discovery pass crashed, keeping current schedules')).toEqual([
      { level: 'error', msg: 'Discovery pass crashed, keeping current schedules', error: 'apply() blew up', attempt: 1 },
    ]);
    expect(t.loop.liveness()).toBeUndefined();
    await t.loop.stop();
  });

  it('should report on liveness a pass that never returns, once its bound and the slack have passed', async () => {
    const stuck = deferred<boolean>();
    const t = loopWith([true, stuck.promise], 1000, 10_000);
    t.loop.start();
    await flushMicrotasks();
    await t.advance(1000);
    expect(t.starts).toEqual([0, 1000]);
    await t.advance(10_000 + STALL_SLACK_MS - 100);
    expect(t.loop.liveness()).toBeUndefined();
    await t.advance(200);
    expect(t.loop.liveness()).toMatch(/^discovery has made no progress for 1m0\.1s beyond its plan \(rebuild_interval 1s, rebuild_timeout 10s\)$/);
    stuck.resolve(true);
    await flushMicrotasks();
    expect(t.loop.liveness()).toBeUndefined();
    await t.loop.stop();
  });

  it('should start the next pass at once when woken while waiting, and right after the current one when woken during it', async () => {
    const running = deferred<boolean>();
    const t = loopWith([true, running.promise, true], 30_000);
    t.loop.start();
    await flushMicrotasks();
    await t.advance(1000);
    t.loop.wake();
    await flushMicrotasks();
    expect(t.starts).toEqual([0, 1000]);
    t.loop.wake();
    running.resolve(true);
    await flushMicrotasks();
    expect(t.starts).toEqual([0, 1000, 1000]);
    await t.advance(29_900);
    expect(t.starts).toEqual([0, 1000, 1000]);
    await t.advance(100);
    expect(t.starts).toEqual([0, 1000, 1000, 31_000]);
    await t.loop.stop();
  });

  it('should end a pass in flight on stop, and run no more', async () => {
    const t = loopWith([new Promise<boolean>(() => undefined)]);
    let aborted = false;
    const loop = new DiscoveryLoop({
      clock: t.clock,
      logger: t.logs.logger,
      intervalMs: 1000,
      timeoutMs: 10_000,
      pass: (signal) =>
        new Promise<boolean>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(false);
          }),
        ),
    });
    loop.start();
    await flushMicrotasks();
    await loop.stop();
    expect(aborted).toBe(true);
    expect(t.logs.entries).toEqual([]);
  });

  it('should judge progress on the monotonic clock: a wall-clock step during a wait is not a stall', async () => {
    const clock = new ManualClock(T0);
    const logs = captureLogs();
    let monotonic = 0;
    const loop = new DiscoveryLoop({
      clock,
      logger: logs.logger,
      intervalMs: 30_000,
      timeoutMs: 10_000,
      monotonic: () => monotonic,
      pass: () => Promise.resolve(true),
    });
    loop.start();
    await flushMicrotasks();
    clock.jump(5 * 60_000);
    expect(loop.liveness()).toBeUndefined();
    // the wait itself overrunning its plan by the slack is a stall
    monotonic = 30_000 + STALL_SLACK_MS + 1;
    expect(loop.liveness()).toMatch(/^discovery has made no progress for 1m0\.001s beyond its plan/);
    await loop.stop();
  });
});
