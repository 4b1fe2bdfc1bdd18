import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.ts';
import { runNext } from '../../src/cli/next.ts';
import { fireTimesDocument, formatFireTimes, mergeFireTimes, nextFireTimes, type NextRequest, type NextResult } from '../../src/cli/next-times.ts';
import { formatOffset, zonedTime } from '../../src/cli/zoned-time.ts';
import type { CompiledSchedule } from '../../src/schedule/cron.ts';

function request(schedule: string, timezone: string, from: string, count = 5): NextRequest {
  return { schedule, timezone, fromMs: Date.parse(from), count };
}

function ok(result: NextResult): Extract<NextResult, { ok: true }> {
  if (!result.ok) throw new Error(result.reason);
  return result;
}

function lines(schedule: string, timezone: string, from: string, count = 5): string[] {
  return formatFireTimes(ok(nextFireTimes(request(schedule, timezone, from, count))), timezone).trimEnd().split('\n');
}

function captureIo(): Io & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('zoned time', () => {
  it('should give the wall-clock time and UTC offset of an instant in a zone', () => {
    expect(zonedTime(Date.parse('2026-03-29T00:59:59Z'), 'Europe/London')).toEqual({ local: '2026-03-29 00:59:59', offset: '+00:00' });
    expect(zonedTime(Date.parse('2026-03-29T01:00:00Z'), 'Europe/London')).toEqual({ local: '2026-03-29 02:00:00', offset: '+01:00' });
    expect(zonedTime(Date.parse('2026-07-01T12:00:00.750Z'), 'America/New_York')).toEqual({ local: '2026-07-01 08:00:00', offset: '-04:00' });
    expect(zonedTime(Date.parse('2026-01-01T00:00:00Z'), 'Asia/Kathmandu')).toEqual({ local: '2026-01-01 05:45:00', offset: '+05:45' });
    expect(zonedTime(Date.parse('2026-01-01T00:00:00Z'), 'UTC')).toEqual({ local: '2026-01-01 00:00:00', offset: '+00:00' });
  });

  it('should format offsets with a sign, hours and minutes', () => {
    expect(formatOffset(0)).toBe('+00:00');
    expect(formatOffset(5.5 * 3_600_000)).toBe('+05:30');
    expect(formatOffset(-4 * 3_600_000)).toBe('-04:00');
    expect(formatOffset(-75_000)).toBe('-00:01:15');
  });
});

describe('next fire times (Europe/London DST, docs/adr/0002)', () => {
  it('should show a fixed-time job in the spring-forward gap running right after the jump', () => {
    // 2026-03-29 01:00 GMT -> 02:00 BST: 01:30 local does not exist
    expect(lines('30 1 * * *', 'Europe/London', '2026-03-28T12:00:00Z', 3)).toEqual([
      '2026-03-29 02:00:00 +01:00 (Europe/London)  2026-03-29T01:00:00.000Z',
      '2026-03-30 01:30:00 +01:00 (Europe/London)  2026-03-30T00:30:00.000Z',
      '2026-03-31 01:30:00 +01:00 (Europe/London)  2026-03-31T00:30:00.000Z',
    ]);
  });

  it('should show a fixed-time job in the repeated fall-back hour running once, on the first occurrence', () => {
    // 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 local happens twice
    expect(lines('30 1 * * *', 'Europe/London', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25 01:30:00 +01:00 (Europe/London)  2026-10-25T00:30:00.000Z',
      '2026-10-26 01:30:00 +00:00 (Europe/London)  2026-10-26T01:30:00.000Z',
    ]);
  });

  it('should show an interval job running on both occurrences of the repeated hour', () => {
    expect(lines('*/30 * * * *', 'Europe/London', '2026-10-24T23:45:00Z', 5)).toEqual([
      '2026-10-25 01:00:00 +01:00 (Europe/London)  2026-10-25T00:00:00.000Z',
      '2026-10-25 01:30:00 +01:00 (Europe/London)  2026-10-25T00:30:00.000Z',
      '2026-10-25 01:00:00 +00:00 (Europe/London)  2026-10-25T01:00:00.000Z',
      '2026-10-25 01:30:00 +00:00 (Europe/London)  2026-10-25T01:30:00.000Z',
      '2026-10-25 02:00:00 +00:00 (Europe/London)  2026-10-25T02:00:00.000Z',
    ]);
  });
});

describe('merging several expressions', () => {
  it('should merge and sort the expressions, naming both when they share an instant', () => {
    expect(lines('0 */2 * * *; 30 * * * *;0 0 * * *', 'UTC', '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-01 00:30:00 +00:00 (UTC)  2026-01-01T00:30:00.000Z  30 * * * *',
      '2026-01-01 01:30:00 +00:00 (UTC)  2026-01-01T01:30:00.000Z  30 * * * *',
      '2026-01-01 02:00:00 +00:00 (UTC)  2026-01-01T02:00:00.000Z  0 */2 * * *',
      '2026-01-01 02:30:00 +00:00 (UTC)  2026-01-01T02:30:00.000Z  30 * * * *',
    ]);
    const shared = ok(nextFireTimes(request('0 */2 * * *; 0 0 * * *', 'UTC', '2026-01-01T12:00:00Z', 6)));
    expect(shared.times.at(-1)).toEqual({ at: Date.parse('2026-01-02T00:00:00Z'), expressions: ['0 */2 * * *', '0 0 * * *'], timezone: 'UTC' });
  });

  it('should split like the daemon: trimmed, repeated and empty entries dropped', () => {
    expect(ok(nextFireTimes(request(' @daily ;; @daily ; 0  9 * * * ', 'UTC', '2026-01-01T00:00:00Z'))).expressions).toEqual(['@daily', '0 9 * * *']);
  });

  it('should be strictly after --from and honour the count', () => {
    const result = ok(nextFireTimes(request('* * * * *', 'UTC', '2026-01-01T00:00:00Z', 1000)));
    expect(result.times).toHaveLength(1000);
    expect(result.times[0]?.at).toBe(Date.parse('2026-01-01T00:01:00Z'));
  });

  it('should stop when no schedule fires any more', () => {
    const twice: CompiledSchedule = { expression: 'x', timezone: 'UTC', key: 'UTC|x', next: (after) => (after < 2 ? after + 1 : undefined), previous: () => [] };
    expect(mergeFireTimes([twice], 0, 5)).toEqual([
      { at: 1, expressions: ['x'], timezone: 'UTC' },
      { at: 2, expressions: ['x'], timezone: 'UTC' },
    ]);
  });
});

describe('CRON_TZ= prefixes and @every', () => {
  it('should show each time in the zone of its expression', () => {
    expect(lines('CRON_TZ=Asia/Tokyo 0 6 * * ?; 0 6 * * *', 'Europe/London', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01 06:00:00 +00:00 (Europe/London)  2026-01-01T06:00:00.000Z  0 6 * * *',
      '2026-01-02 06:00:00 +09:00 (Asia/Tokyo)  2026-01-01T21:00:00.000Z  CRON_TZ=Asia/Tokyo 0 6 * * ?',
      '2026-01-02 06:00:00 +00:00 (Europe/London)  2026-01-02T06:00:00.000Z  0 6 * * *',
    ]);
    expect(lines('TZ=America/New_York @daily', 'UTC', '2026-07-01T00:00:00Z', 1)).toEqual(['2026-07-01 00:00:00 -04:00 (America/New_York)  2026-07-01T04:00:00.000Z']);
  });

  it('should list @every slots at whole multiples of the interval since the epoch, shown in the requested zone', () => {
    expect(lines('@every 90s', 'Europe/Berlin', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01 01:01:30 +01:00 (Europe/Berlin)  2026-01-01T00:01:30.000Z',
      '2026-01-01 01:03:00 +01:00 (Europe/Berlin)  2026-01-01T00:03:00.000Z',
      '2026-01-01 01:04:30 +01:00 (Europe/Berlin)  2026-01-01T00:04:30.000Z',
    ]);
    // 7 minutes: 420 s does not divide a day, so the slots move from day to day (2026-01-01 00:00 UTC is one, 2026-01-02 00:00 is not)
    const at = (from: string): string[] => ok(nextFireTimes(request('@every 7m', 'UTC', from, 2))).times.map((t) => new Date(t.at).toISOString());
    expect(at('2025-12-31T23:59:59Z')).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:07:00.000Z']);
    expect(at('2026-01-01T23:59:59Z')).toEqual(['2026-01-02T00:02:00.000Z', '2026-01-02T00:09:00.000Z']);
  });

  it('should give the reason for a bad prefix or interval', () => {
    expect(nextFireTimes(request('CRON_TZ=Nowhere/City 0 6 * * *', 'UTC', '2026-01-01T00:00:00Z'))).toMatchObject({ ok: false, reason: expect.stringContaining('unknown time zone "Nowhere/City" in CRON_TZ=') });
    expect(nextFireTimes(request('@every 1500ms', 'UTC', '2026-01-01T00:00:00Z'))).toMatchObject({ ok: false, reason: expect.stringContaining('not a whole number of seconds') });
  });

  it('should accept a prefix and unquoted fields on the command line', () => {
    const io = captureIo();
    expect(runNext(['CRON_TZ=Asia/Tokyo', '0', '6', '*', '*', '?', '-n', '1', '--from', '2026-01-01T00:00:00Z'], {}, io, 0)).toBe(0);
    expect(io.stdout).toBe('2026-01-02 06:00:00 +09:00 (Asia/Tokyo)  2026-01-01T21:00:00.000Z\n');
    const json = captureIo();
    expect(runNext(['CRON_TZ=Asia/Tokyo 0 6 * * ?', '-n', '1', '--from', '2026-01-01T00:00:00Z', '--json'], { timezone: 'Europe/London' }, json, 0)).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ timezone: 'Europe/London', times: [{ utc: '2026-01-01T21:00:00.000Z', local: '2026-01-02 06:00:00', offset: '+09:00', timezone: 'Asia/Tokyo' }] });
  });
});

describe('bad input', () => {
  it('should give the reason for a bad expression, zone or empty schedule', () => {
    expect(nextFireTimes(request('0 9 * *', 'UTC', '2026-01-01T00:00:00Z'))).toEqual({
      ok: false,
      reason: 'invalid schedule "0 9 * *": expected 5 fields (minute hour day month weekday) or 6 with leading seconds, found 4',
    });
    expect(nextFireTimes(request('0 9 * * *', 'Mars/Olympus_Mons', '2026-01-01T00:00:00Z'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown time zone "Mars\/Olympus_Mons"/),
    });
    expect(nextFireTimes(request(' ; ', 'UTC', '2026-01-01T00:00:00Z'))).toMatchObject({ ok: false, reason: expect.stringContaining('no expression') });
    expect(nextFireTimes(request('0 0 31 2 *', 'UTC', '2026-01-01T00:00:00Z'))).toMatchObject({ ok: false });
  });
});

describe('the --json document', () => {
  it('should hold the zone, the start and each time in UTC and local time', () => {
    const req = request('30 1 * * *', 'Europe/London', '2026-03-28T12:00:00Z', 1);
    expect(fireTimesDocument(ok(nextFireTimes(req)), req)).toEqual({
      ok: true,
      expressions: ['30 1 * * *'],
      timezone: 'Europe/London',
      from: '2026-03-28T12:00:00.000Z',
      count: 1,
      times: [{ utc: '2026-03-29T01:00:00.000Z', local: '2026-03-29 02:00:00', offset: '+01:00', expressions: ['30 1 * * *'] }],
    });
  });
});

describe('runNext', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('should default to the timezone variable, then UTC, and join unquoted fields', () => {
    const io = captureIo();
    expect(runNext(['0', '9', '*', '*', '*', '-n', '1'], { timezone: 'Europe/Berlin' }, io, now)).toBe(0);
    expect(io.stdout).toBe('2026-01-01 09:00:00 +01:00 (Europe/Berlin)  2026-01-01T08:00:00.000Z\n');
    const utc = captureIo();
    expect(runNext(['@hourly', '-n', '1'], {}, utc, now)).toBe(0);
    expect(utc.stdout).toBe('2026-01-01 01:00:00 +00:00 (UTC)  2026-01-01T01:00:00.000Z\n');
  });

  it('should exit 1 with the reason for a bad expression or zone, in text and JSON', () => {
    const text = captureIo();
    expect(runNext(['0 9 * * *', '--tz', 'Nowhere/City'], {}, text, now)).toBe(1);
    expect(text.stderr).toMatch(/^cron-connector next: unknown time zone "Nowhere\/City"/);
    const json = captureIo();
    expect(runNext(['61 * * * *', '--json'], {}, json, now)).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: expect.stringContaining('invalid schedule "61 * * * *"') });
  });

  it('should exit 2 for usage errors', () => {
    for (const argv of [[], ['* * * * *', '-n', '0'], ['* * * * *', '-n', '1001'], ['* * * * *', '--from', 'yesterday'], ['* * * * *', '--nope'], ['* * * * *', '--tz']]) {
      const io = captureIo();
      expect(runNext(argv, {}, io, now), argv.join(' ')).toBe(2);
      expect(io.stderr).toContain('see cron-connector next --help');
      expect(io.stdout).toBe('');
    }
  });
});
