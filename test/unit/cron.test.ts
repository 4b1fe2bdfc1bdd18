import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { compileSchedule, shareYearTable, type CompiledSchedule } from '../../src/schedule/cron.ts';

function compile(expression: string, timezone = 'UTC'): CompiledSchedule {
  const r = compileSchedule(expression, timezone);
  if (!r.ok) throw new Error(r.reason);
  return r.schedule;
}

function runs(s: CompiledSchedule, from: string, n: number): string[] {
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = s.next(t);
    if (next === undefined) break;
    out.push(new Date(next).toISOString());
    t = next;
  }
  return out;
}

describe('next fire time', () => {
  it('should be strictly after the given instant', () => {
    const s = compile('* * * * *');
    expect(s.next(Date.parse('2026-01-01T00:00:00.000Z'))).toBe(Date.parse('2026-01-01T00:01:00.000Z'));
    expect(s.next(Date.parse('2026-01-01T00:00:59.999Z'))).toBe(Date.parse('2026-01-01T00:01:00.000Z'));
  });

  it('should support a leading seconds field', () => {
    expect(runs(compile('*/20 * * * * *'), '2026-01-01T00:00:00.500Z', 3)).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });

  it('should combine day-of-month and day-of-week with OR, as Vixie cron does', () => {
    // the 13th, or any Friday
    expect(runs(compile('0 0 13 * 5'), '2026-03-01T00:00:00Z', 3)).toEqual([
      '2026-03-06T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
      '2026-03-20T00:00:00.000Z',
    ]);
  });

  it('should fire in the function time zone', () => {
    expect(runs(compile('0 9 * * *', 'America/New_York'), '2026-07-01T00:00:00Z', 1)).toEqual(['2026-07-01T13:00:00.000Z']);
  });
});

describe('daylight saving time (Europe/London, docs/adr/0002)', () => {
  it('should run a fixed-time job in the spring-forward gap once, right after the jump', () => {
    // 2026-03-29 01:00 GMT -> 02:00 BST: 01:30 local does not exist
    expect(runs(compile('30 1 * * *', 'Europe/London'), '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('should run a fixed-time job in the repeated fall-back hour once', () => {
    // 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 local happens twice
    expect(runs(compile('30 1 * * *', 'Europe/London'), '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('should keep an interval job on real time through the fall-back hour', () => {
    const times = runs(compile('0,30 * * * *', 'Europe/London'), '2026-10-24T23:45:00Z', 6);
    expect(times).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ]);
  });
});

describe('shared year table', () => {
  const yearsOf = (cron: Cron): unknown => (cron as unknown as { _states: { pattern: { year: unknown } } })._states.pattern.year;

  it('should point every compiled pattern at one table (croner internals still have the expected shape)', () => {
    const a = new Cron('0 9 * * 1-5', { paused: true, timezone: 'UTC' });
    const b = new Cron('*/7 * * * * *', { paused: true, timezone: 'Europe/London' });
    expect(yearsOf(a)).not.toBe(yearsOf(b));
    expect(shareYearTable(a)).toBe(true);
    expect(shareYearTable(b)).toBe(true);
    expect(yearsOf(a)).toBe(yearsOf(b));
    expect((yearsOf(a) as unknown[]).length).toBe(10_000);
  });

  it('should leave next fire times unchanged', () => {
    const from = new Date('2026-03-27T23:59:59.000Z');
    const a = new Cron('30 1 * * *', { paused: true, timezone: 'Europe/London' });
    const before = a.nextRuns(5, from).map((d) => d.toISOString());
    shareYearTable(a);
    expect(a.nextRuns(5, from).map((d) => d.toISOString())).toEqual(before);
    expect(before[0]).toBe('2026-03-28T01:30:00.000Z');
  });
});

describe('memoized next()', () => {
  it('should answer exactly what croner answers, for any order of instants, across DST', () => {
    const cases: Array<[string, string]> = [
      ['30 1 * * *', 'Europe/London'],
      ['*/7 * * * * *', 'UTC'],
      ['0 9 * * MON-FRI', 'America/New_York'],
      ['15 2 * * *', 'America/New_York'],
      ['0 0 29 2 *', 'UTC'],
      // UTC is computed as a fixed offset: the same times as croner's zone arithmetic
      ['30 1 * * 1-5', 'UTC'],
      ['0 */6 * * *', 'Etc/UTC'],
    ];
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const start = Date.parse('2026-03-07T00:00:00.000Z');
    for (const [expression, timezone] of cases) {
      const memo = compile(expression, timezone);
      const reference = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
      let t = start;
      for (let i = 0; i < 400; i++) {
        // mostly forwards by up to a few hours, sometimes backwards, sometimes to the answer itself
        const r = random();
        t = r < 0.1 ? t - Math.floor(random() * 86_400_000) : r < 0.3 ? (memo.next(t) ?? t) : t + Math.floor(random() * 4 * 3_600_000);
        expect([expression, t, memo.next(t)]).toEqual([expression, t, reference.nextRun(new Date(t))?.getTime()]);
      }
    }
  });
});
