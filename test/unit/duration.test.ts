import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2h45m30.5s', 9_930_500],
    ['0', 0],
    ['250us', 0.25],
    ['+5s', 5000],
  ])('should read %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '+', 'abc', '10', '-5s', '5 s', '1x', 's', '1h-30m', '5s5', 'NaNs'])('should reject %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [12, '12ms'],
    [1500, '1.5s'],
    [60_000, '1m0s'],
    [5_400_000, '1h30m0s'],
  ])('should print %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
