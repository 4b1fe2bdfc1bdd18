import { describe, expect, it } from 'vitest';
import { compileSchedule, type CompiledSchedule } from '../../src/schedule/cron.ts';
import { FIRE_BATCH, Scheduler, type FireEvent } from '../../src/schedule/scheduler.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

function compile(expression: string, timezone = 'UTC'): CompiledSchedule {
  const r = compileSchedule(expression, timezone);
  if (!r.ok) throw new Error(r.reason);
  return r.schedule;
}

function setup(start = '2026-01-01T00:00:00.000Z'): { clock: ManualClock; fired: Array<FireEvent<string> & { at: number }>; scheduler: Scheduler<string> } {
  const clock = new ManualClock(start);
  const fired: Array<FireEvent<string> & { at: number }> = [];
  const scheduler = new Scheduler<string>({ clock, onFire: (e) => fired.push({ ...e, at: clock.now() }) });
  scheduler.start();
  return { clock, fired, scheduler };
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

describe('scheduler', () => {
  it('should tell its earliest slot while running, and none once stopped', () => {
    const { clock, scheduler } = setup('2026-01-01T00:00:00.250Z');
    expect(scheduler.nextDue()).toBeUndefined();
    scheduler.add('a', compile('*/5 * * * * *'), 'A');
    scheduler.add('b', compile('* * * * * *'), 'B');
    expect(scheduler.nextDue()).toBe(T0 + 1000);
    clock.advance(1000);
    // b fired at 1 s and is back in the heap on the next turn, for 2 s
    clock.advance(1);
    expect(scheduler.nextDue()).toBe(T0 + 2000);
    scheduler.stop();
    expect(scheduler.nextDue()).toBeUndefined();
  });

  it('should fire at the nominal time, never before', () => {
    const { clock, fired, scheduler } = setup('2026-01-01T00:00:00.250Z');
    scheduler.add('a', compile('* * * * * *'), 'A');
    clock.advance(749);
    expect(fired).toHaveLength(0);
    clock.advance(1);
    expect(fired.map((f) => [f.nominal - T0, f.at - T0])).toEqual([[1000, 1000]]);
    clock.advance(3000);
    expect(fired.map((f) => f.nominal - T0)).toEqual([1000, 2000, 3000, 4000]);
    for (const f of fired) expect(f.at).toBeGreaterThanOrEqual(f.nominal);
  });

  it('should wake a few milliseconds early and cover the rest with event-loop turns', () => {
    const { clock, fired, scheduler } = setup('2026-01-01T00:00:00.250Z');
    scheduler.add('a', compile('* * * * * *'), 'A');
    expect(clock.requested.at(-1)).toBe(747);
    clock.advance(748);
    expect(fired).toHaveLength(0);
    clock.advance(2);
    expect(fired.map((f) => f.at - T0)).toEqual([1000]);
  });

  it('should sleep again when a timer wakes up early', () => {
    const { clock, fired, scheduler } = setup();
    scheduler.add('a', compile('*/10 * * * * *'), 'A');
    clock.jump(-5); // the wall clock stepped back: the timer comes due 5 ms before the slot
    clock.advance(10_000);
    expect(fired).toHaveLength(0);
    clock.advance(5);
    expect(fired.map((f) => f.at - T0)).toEqual([10_000]);
  });

  it('should fire several schedules and functions in time order', () => {
    const { clock, fired, scheduler } = setup();
    scheduler.add('a', compile('*/2 * * * * *'), 'A');
    scheduler.add('b', compile('*/3 * * * * *'), 'B');
    clock.advance(6000);
    expect(fired.map((f) => `${f.payload}@${(f.nominal - T0) / 1000}`)).toEqual(['A@2', 'B@3', 'A@4', 'A@6', 'B@6']);
  });

  it('should stop firing a removed entry and fire a re-added one only on its new schedule', () => {
    const { clock, fired, scheduler } = setup();
    scheduler.add('a', compile('* * * * * *'), 'A');
    clock.advance(2000);
    scheduler.remove('a');
    clock.advance(5000);
    expect(fired).toHaveLength(2);
    scheduler.add('a', compile('*/5 * * * * *'), 'A2');
    clock.advance(5000);
    expect(fired.map((f) => f.payload)).toEqual(['A', 'A', 'A2']);
  });

  it('should use the latest payload after an update without moving the timer', () => {
    const { clock, fired, scheduler } = setup();
    scheduler.add('a', compile('* * * * * *'), 'old');
    const next = scheduler.nextFire('a');
    scheduler.update('a', 'new');
    expect(scheduler.nextFire('a')).toBe(next);
    clock.advance(1000);
    expect(fired.map((f) => f.payload)).toEqual(['new']);
  });

  it('should coalesce missed slots after a pause into one firing and report how many were skipped', () => {
    const { clock, fired, scheduler } = setup();
    scheduler.add('a', compile('* * * * *'), 'A');
    clock.jump(10 * 60_000 + 30_000); // suspended for 10.5 minutes
    clock.advance(1); // the capped 30 s sleep is long past: it wakes at once
    expect(fired).toHaveLength(1);
    expect(fired[0]?.missed).toBe(9);
    expect(fired[0]?.nominal).toBe(T0 + 10 * 60_000);
    clock.advance(60_000);
    expect(fired).toHaveLength(2);
    expect(fired[1]?.missed).toBe(0);
  });

  it('should never sleep longer than 30 s at a time, so yearly schedules survive clock steps', () => {
    const { clock, scheduler } = setup();
    scheduler.add('y', compile('@yearly'), 'Y');
    expect(Math.max(...clock.requested)).toBeLessThanOrEqual(30_000);
  });

  it('should keep firing when a callback throws', () => {
    const clock = new ManualClock(T0);
    const errors: string[] = [];
    let calls = 0;
    const scheduler = new Scheduler<string>({
      clock,
      onFire: () => {
        calls++;
        throw new Error('boom');
      },
      onError: (_err, key) => errors.push(key),
    });
    scheduler.start();
    scheduler.add('a', compile('* * * * * *'), 'A');
    clock.advance(3000);
    expect([calls, errors.length]).toEqual([3, 3]);
  });

  it('should fire nothing after stop', () => {
    const { clock, fired, scheduler } = setup();
    scheduler.add('a', compile('* * * * * *'), 'A');
    scheduler.stop();
    clock.advance(5000);
    expect(fired).toHaveLength(0);
  });

  it('should handle thousands of entries on one slot and compact removed ones', () => {
    const { clock, fired, scheduler } = setup();
    const every = compile('*/5 * * * * *');
    for (let i = 0; i < 5000; i++) scheduler.add(`f${i}`, every, `F${i}`);
    for (let i = 0; i < 2500; i++) scheduler.remove(`f${i}`);
    clock.advance(5000);
    // one batch in the slot's own turn, the rest in the next turns
    expect(fired).toHaveLength(FIRE_BATCH);
    clock.advance(10);
    expect(fired).toHaveLength(2500);
    expect(new Set(fired.map((f) => f.nominal))).toEqual(new Set([T0 + 5000]));
    expect(new Set(fired.map((f) => f.key)).size).toBe(2500);
    expect(scheduler.size).toBe(2500);
  });
});

describe('scheduler: the hot path', () => {
  it('should hand a slot over before computing the one after it', () => {
    const clock = new ManualClock('2026-01-01T00:00:00.500Z');
    const calls: string[] = [];
    const every = compile('* * * * * *');
    const spy: CompiledSchedule = { ...every, next: (after) => (calls.push(`next(${after - T0})`), every.next(after)) };
    const fired: Array<FireEvent<string>> = [];
    const scheduler = new Scheduler<string>({ clock, onFire: (e) => (calls.push(`fire(${e.nominal - T0})`), fired.push(e)) });
    scheduler.start();
    scheduler.add('a', spy, 'A');
    clock.advance(500);
    expect(calls).toEqual(['next(500)', 'fire(1000)']);
    clock.advance(1);
    expect(calls).toEqual(['next(500)', 'fire(1000)', 'next(1000)']);
    // the following slot, for retries, is there on demand
    expect(fired[0] && fired[0].schedule.next(fired[0].after)).toBe(T0 + 2000);
    clock.advance(1000);
    expect(calls.filter((c) => c.startsWith('fire'))).toEqual(['fire(1000)', 'fire(2000)']);
  });
});

describe('scheduler: entries between firing and rescheduling', () => {
  it('should drop an entry removed in that turn, and keep one re-added in it', () => {
    const { clock, fired, scheduler } = setup('2026-01-01T00:00:00.500Z');
    scheduler.add('gone', compile('* * * * * *'), 'G');
    scheduler.add('back', compile('* * * * * *'), 'B1');
    clock.advance(500);
    expect(fired.map((f) => f.key)).toEqual(['gone', 'back']);
    // both are out of the heap until the next turn
    scheduler.remove('gone');
    scheduler.add('back', compile('*/2 * * * * *'), 'B2');
    clock.advance(3000);
    expect(fired.slice(2).map((f) => [f.key, f.payload, f.nominal - T0])).toEqual([
      ['back', 'B2', 2000],
      ['back', 'B2', 4000],
    ]);
    expect(scheduler.size).toBe(1);
  });

  it('should count as stale only removed entries that are still in the heap', () => {
    const { clock, fired, scheduler } = setup('2026-01-01T00:00:00.500Z');
    const stale = (): number => (scheduler as unknown as { stale: number }).stale;
    const every = compile('* * * * * *');
    for (let i = 0; i < 3000; i++) scheduler.add(`f${i}`, every, 'F');
    clock.advance(500);
    // one batch fired and waits to be rescheduled; the rest is still in the heap
    expect(fired).toHaveLength(FIRE_BATCH);
    for (let i = 0; i < 2000; i++) scheduler.remove(`f${i}`);
    // 2,000 removed: the 256 fired ones were out of the heap and are not stale. Of the 1,744 in the
    // heap, the 1,373rd made stale entries outnumber live ones (1,373 > 3,000 - 256 - 1,373 and
    // > 1,024): the heap was compacted, and the 371 removed after that are stale
    expect(stale()).toBe(1744 - 1373);
    clock.advance(1000);
    expect(stale()).toBe(0);
    expect(new Set(fired.slice(FIRE_BATCH).map((f) => f.key)).size).toBe(1000);
    expect(fired.slice(FIRE_BATCH).every((f) => Number(f.key.slice(1)) >= 2000 || f.nominal === T0 + 1000)).toBe(true);
    expect(scheduler.size).toBe(1000);
  });
});

describe('scheduler: getting ready before a slot', () => {
  function withPrepare(start: string, leadMs: number): { clock: ManualClock; fired: number[]; prepared: Array<{ at: number; slot: number }>; dues: number[]; scheduler: Scheduler<string> } {
    const clock = new ManualClock(start);
    const fired: number[] = [];
    const prepared: Array<{ at: number; slot: number }> = [];
    const dues: number[] = [];
    const scheduler = new Scheduler<string>({
      clock,
      onFire: (e) => fired.push(e.nominal),
      prepare: { leadMs, countUpTo: 3, run: (slot, due) => (prepared.push({ at: clock.now(), slot }), dues.push(due)) },
    });
    scheduler.start();
    return { clock, fired, prepared, dues, scheduler };
  }

  it('should count the entries due at the slot, up to the limit', () => {
    const { clock, dues, scheduler } = withPrepare('2026-01-01T00:00:00.000Z', 1000);
    scheduler.add('a', compile('*/5 * * * * *'), 'A');
    scheduler.add('b', compile('*/5 * * * * *'), 'B');
    scheduler.add('c', compile('*/10 * * * * *'), 'C');
    clock.advance(4000);
    // 5 s: a and b (c is due at 10 s)
    expect(dues).toEqual([2]);
    for (let i = 0; i < 5; i++) scheduler.add(`more${i}`, compile('*/5 * * * * *'), 'M');
    clock.advance(5000);
    // 10 s: a, b, c and five more; counted up to 3
    expect(dues).toEqual([2, 3]);
    scheduler.remove('a');
    for (let i = 0; i < 5; i++) scheduler.remove(`more${i}`);
    clock.advance(5000);
    // 15 s: b only (the removed entries still sit in the heap, and are not counted)
    expect(dues).toEqual([2, 3, 1]);
  });

  it('should call prepare once per slot, lead milliseconds before it, and still fire on the dot', () => {
    const { clock, fired, prepared, scheduler } = withPrepare('2026-01-01T00:00:00.000Z', 1000);
    scheduler.add('a', compile('*/5 * * * * *'), 'A');
    scheduler.add('b', compile('*/5 * * * * *'), 'B');
    clock.advance(3999);
    expect(prepared).toEqual([]);
    clock.advance(1);
    expect(prepared).toEqual([{ at: T0 + 4000, slot: T0 + 5000 }]);
    clock.advance(1000);
    expect(fired).toEqual([T0 + 5000, T0 + 5000]);
    clock.advance(5000);
    expect(prepared).toEqual([
      { at: T0 + 4000, slot: T0 + 5000 },
      { at: T0 + 9000, slot: T0 + 10_000 },
    ]);
    expect(fired).toEqual([T0 + 5000, T0 + 5000, T0 + 10_000, T0 + 10_000]);
  });

  it('should prepare at once when the slot is nearer than the lead', () => {
    const { clock, fired, prepared, scheduler } = withPrepare('2026-01-01T00:00:00.600Z', 1000);
    scheduler.add('a', compile('* * * * * *'), 'A');
    expect(prepared).toEqual([{ at: T0 + 600, slot: T0 + 1000 }]);
    clock.advance(400);
    expect(fired).toEqual([T0 + 1000]);
    // the fired entry goes back into the heap on the next turn (1 ms on this clock)
    clock.advance(1);
    expect(prepared.at(-1)).toEqual({ at: T0 + 1001, slot: T0 + 2000 });
  });

  it('should not prepare a slot closer than the fine phase', () => {
    const { prepared, scheduler } = withPrepare('2026-01-01T00:00:00.998Z', 1000);
    scheduler.add('a', compile('* * * * * *'), 'A');
    expect(prepared).toEqual([]);
  });
});
