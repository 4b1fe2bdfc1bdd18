import { describe, expect, it } from 'vitest';
import { MAX_CATCH_UP_SLOTS, MAX_COUNTED, planCatchUp } from '../../src/schedule/catchup.ts';
import { compile } from '../helpers/schedules.ts';

const T0 = Date.parse('2026-12-02T08:00:00.000Z');
const s = (n: number): number => T0 + n * 1000;


const everySecond = compile('* * * * * *');

describe('catch-up plan', () => {
  it('should run every missed slot with all, oldest first, from the first one inclusive to now inclusive', () => {
    expect(planCatchUp(everySecond, s(1), s(5), { catchup: 'all', deadlineMs: undefined })).toEqual({ run: [s(1), s(2), s(3), s(4), s(5)], skipped: 0, countTruncated: false });
  });

  it('should run only the newest with latest and none with none, counting the others', () => {
    expect(planCatchUp(everySecond, s(1), s(5) + 999, { catchup: 'latest', deadlineMs: undefined })).toEqual({ run: [s(5)], skipped: 4, countTruncated: false });
    expect(planCatchUp(everySecond, s(1), s(5), { catchup: 'none', deadlineMs: undefined })).toEqual({ run: [], skipped: 5, countTruncated: false });
  });

  it('should not run a slot older than the deadline', () => {
    expect(planCatchUp(everySecond, s(1), s(10) + 500, { catchup: 'all', deadlineMs: 3000 }).run).toEqual([s(8), s(9), s(10)]);
    // 09:00 and 10:00 were missed; at 10:02 both are older than a minute
    expect(planCatchUp(compile('0 * * * *'), s(1), s(7320), { catchup: 'latest', deadlineMs: 60_000 })).toEqual({ run: [], skipped: 2, countTruncated: false });
  });

  it('should run at most the newest 100 and count the rest', () => {
    const plan = planCatchUp(everySecond, s(1), s(1000), { catchup: 'all', deadlineMs: undefined });
    expect(plan.run).toHaveLength(MAX_CATCH_UP_SLOTS);
    expect(plan.run[0]).toBe(s(901));
    expect(plan.run.at(-1)).toBe(s(1000));
    expect(plan.skipped).toBe(900);
  });

  it('should bound the count of a very long gap and say so', () => {
    const plan = planCatchUp(everySecond, s(1), s(86_400 * 7), { catchup: 'latest', deadlineMs: undefined });
    expect(plan).toEqual({ run: [s(86_400 * 7)], skipped: MAX_COUNTED - 1, countTruncated: true });
  });

  it('should find nothing when no slot fell in the gap', () => {
    expect(planCatchUp(compile('0 0 * * *'), s(1), s(3600), { catchup: 'all', deadlineMs: undefined })).toEqual({ run: [], skipped: 0, countTruncated: false });
    expect(planCatchUp(everySecond, s(5), s(4), { catchup: 'all', deadlineMs: undefined }).run).toEqual([]);
  });

  it('should find the slots forward scheduling finds across a DST gap: 01:30 of 2026-03-29 runs at 02:00 BST (docs/adr/0002)', () => {
    const daily = compile('30 1 * * *', 'Europe/London');
    const from = Date.parse('2026-03-28T00:00:00Z');
    const to = Date.parse('2026-03-30T12:00:00Z');
    expect(planCatchUp(daily, from, to, { catchup: 'all', deadlineMs: undefined }).run.map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });
});
