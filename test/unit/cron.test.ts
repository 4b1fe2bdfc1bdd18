import { Cron } from 'croner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { planCatchUp } from '../../src/schedule/catchup.ts';
import { compileAll, compileSchedule, shareYearTable } from '../../src/schedule/cron.ts';
import { compile, runs } from '../helpers/schedules.ts';



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

describe('CRON_TZ= and TZ= prefixes', () => {
  it('should evaluate the expression in the prefix zone, whatever the function zone', () => {
    for (const zone of ['UTC', 'Europe/London', 'America/New_York']) {
      const s = compile('CRON_TZ=Asia/Tokyo 0 6 * * ?', zone);
      expect([s.expression, s.timezone, s.key]).toEqual(['CRON_TZ=Asia/Tokyo 0 6 * * ?', 'Asia/Tokyo', 'Asia/Tokyo|0 6 * * ?']);
      expect(runs(s, '2026-07-01T00:00:00Z', 2)).toEqual(['2026-07-01T21:00:00.000Z', '2026-07-02T21:00:00.000Z']);
    }
    expect(runs(compile('TZ=Europe/London 30 1 * * *', 'UTC'), '2026-03-28T12:00:00Z', 2)).toEqual(runs(compile('30 1 * * *', 'Europe/London'), '2026-03-28T12:00:00Z', 2));
  });

  it('should share one compiled schedule, and its memo, with the same expression in that zone', () => {
    const plain = compile('15 4 * * *', 'Asia/Tokyo');
    const prefixed = [compile('CRON_TZ=Asia/Tokyo 15 4 * * *', 'UTC'), compile('TZ=Asia/Tokyo 15 4 * * *', 'Europe/Paris')];
    for (const s of prefixed) {
      expect(s.next).toBe(plain.next);
      expect(s.previous).toBe(plain.previous);
      expect(s.key).toBe(plain.key);
    }
  });

  it('should give the previous slots in the prefix zone, for catch-up', () => {
    const s = compile('CRON_TZ=America/New_York 0 9 * * *', 'UTC');
    expect(s.previous(2, Date.parse('2026-07-03T13:00:00Z')).map((t) => new Date(t).toISOString())).toEqual(['2026-07-03T13:00:00.000Z', '2026-07-02T13:00:00.000Z']);
  });

  it('should reject a bad prefix with the reason', () => {
    const reason = (expression: string): string => {
      const r = compileSchedule(expression, 'UTC');
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason('CRON_TZ=Europe/Atlantis 0 6 * * *')).toMatch(/^unknown time zone "Europe\/Atlantis" in CRON_TZ=: use an IANA name/);
    expect(reason('TZ=Asia/Tokyo')).toMatch(/^TZ=Asia\/Tokyo must be followed by a blank and the schedule/);
    expect(reason('CRON_TZ=UTC 0 6 * *')).toMatch(/expected 5 fields .* found 4/);
    expect(reason('CRON_TZ=UTC CRON_TZ=UTC 0 6 * * *')).toMatch(/only one CRON_TZ= or TZ= prefix/);
    expect(reason('Cron_Tz=UTC 0 6 * * *')).toMatch(/unknown prefix "Cron_Tz="/);
  });
});

describe('@every', () => {
  it('should fire at whole multiples of the interval since the epoch, in UTC, in any function zone', () => {
    const a = compile('@every 90s', 'UTC');
    const b = compile('@every 1m30s', 'Asia/Kolkata');
    expect([a.key, a.timezone, a.intervalMs, b.key, b.timezone, b.expression]).toEqual(['UTC|@every 90s', 'UTC', 90_000, 'UTC|@every 90s', 'UTC', '@every 1m30s']);
    expect(b.next).toBe(a.next);
    expect(runs(a, '2026-01-01T00:00:00Z', 3)).toEqual(['2026-01-01T00:01:30.000Z', '2026-01-01T00:03:00.000Z', '2026-01-01T00:04:30.000Z']);
    // strictly after: a slot itself gives the one after it
    expect(a.next(Date.parse('2026-01-01T00:01:30.000Z'))).toBe(Date.parse('2026-01-01T00:03:00.000Z'));
    expect(a.next(Date.parse('2026-01-01T00:01:29.999Z'))).toBe(Date.parse('2026-01-01T00:01:30.000Z'));
  });

  it('should give the previous slots at or before an instant, newest first, for catch-up', () => {
    const s = compile('@every 1h', 'UTC');
    expect(s.previous(3, Date.parse('2026-01-01T03:00:00Z')).map((t) => new Date(t).toISOString())).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
    const from = Date.parse('2026-01-01T00:30:00Z');
    expect(planCatchUp(s, from, Date.parse('2026-01-01T03:10:00Z'), { catchup: 'all', deadlineMs: undefined }).run.map((t) => new Date(t).toISOString())).toEqual([
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T03:00:00.000Z',
    ]);
  });

  it('should reject an interval under a second or not whole seconds, saying how to fix it', () => {
    const reason = (expression: string): string => {
      const r = compileSchedule(expression, 'UTC');
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason('@every 999ms')).toBe('@every 999ms is shorter than 1s: slots are whole seconds, so the interval must be at least 1s (e.g. @every 1s)');
    expect(reason('@every 61.5s')).toBe('@every 61.5s is not a whole number of seconds: use @every 61s or @every 62s');
    expect(reason('@every soon')).toMatch(/^@every needs a Go duration \(a number and a unit: h, m, s, ms\), such as @every 90s, @every 5m or @every 1h30m; found "soon"$/);
    expect(reason('@every 1000000000000h')).toMatch(/@every needs a Go duration/);
    expect(reason('@every 1500ms')).toMatch(/not a whole number/);
    expect(reason('@every 1s500ms')).toMatch(/not a whole number/);
    expect(reason('@every 1.000s')).toBe('accepted');
    expect(reason('@every 1000000us')).toBe('accepted');
  });
});

describe('shared computations', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('should make one croner computation per slot for thousands of functions on one prefixed expression, across function zones', () => {
    const expression = 'CRON_TZ=Asia/Tokyo 17 3 * * *';
    const zones = ['UTC', 'Europe/London', 'America/New_York', 'Asia/Kolkata'];
    const schedules = Array.from({ length: 4000 }, (_, i) => compileAll([expression], zones[i % zones.length] as string));
    const nextRun = vi.spyOn(Cron.prototype, 'nextRun');
    const t = Date.parse('2026-05-05T00:00:00Z');
    const answers = new Set(schedules.map((s) => (typeof s === 'string' ? s : s[0]?.next(t))));
    expect([...answers]).toEqual([Date.parse('2026-05-05T18:17:00Z')]);
    expect(nextRun).toHaveBeenCalledTimes(1);
  });

  it('should compute @every without croner', () => {
    const nextRun = vi.spyOn(Cron.prototype, 'nextRun');
    const s = compile('@every 45s', 'Europe/Berlin');
    for (let t = 0; t < 1000; t++) s.next(Date.parse('2026-05-05T00:00:00Z') + t * 1000);
    expect(nextRun).not.toHaveBeenCalled();
  });
});
