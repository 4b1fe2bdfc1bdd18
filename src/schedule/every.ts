/**
 * `@every <duration>` (robfig/cron's interval descriptor, e.g. `@every 90s`, `@every 1h30m`).
 * Pure.
 *
 * Slots are the whole multiples of the interval since the Unix epoch, in UTC: every replica and
 * every restart computes the same slots, so leader fail-over, catch-up and execution ids agree.
 * robfig/cron instead counts from when the entry was added (the connector's start, or the
 * discovery that found the function), so its slots move with every restart; ours do not. The
 * interval must be whole seconds and at least 1s (robfig rounds shorter ones up to 1s and cuts
 * fractions of a second off; here they are rejected, so what runs is what was written).
 */
import type { CompiledSchedule } from './cron.ts';

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const OVERFLOW = 2n ** 63n;
const SECOND_NS = 1_000_000_000n;

/**
 * Go's time.ParseDuration, exactly (nanoseconds, with its float64 arithmetic for fractions):
 * "90s", "1h30m", "1.5h", "500ms", "0". Undefined when Go would return an error.
 */
export function parseGoDurationNs(text: string): bigint | undefined {
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  while (s !== '') {
    const part = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = part?.[1] ?? '';
    const fraction = part?.[2];
    if (whole === '' && (fraction === undefined || fraction === '')) return undefined;
    s = s.slice(part?.[0].length ?? 0);
    const unitMatch = /^[^\d.]+/.exec(s);
    if (unitMatch === null) return undefined;
    const unit = UNIT_NS[unitMatch[0]];
    if (unit === undefined) return undefined;
    s = s.slice(unitMatch[0].length);
    let v = whole === '' ? 0n : BigInt(whole);
    if (v > OVERFLOW / unit) return undefined;
    v *= unit;
    if (fraction !== undefined && fraction !== '') {
      // Go keeps fraction digits while they fit in 63 bits and scales them in float64
      let f = 0n;
      let scale = 1;
      for (const digit of fraction) {
        const next = f * 10n + BigInt(digit);
        if (next > OVERFLOW) break;
        f = next;
        scale *= 10;
      }
      if (f > 0n) {
        v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
        if (v > OVERFLOW) return undefined;
      }
    }
    total += v;
    if (total > OVERFLOW) return undefined;
  }
  if (negative) return -total;
  return total > OVERFLOW - 1n ? undefined : total;
}

export type EveryResult = { readonly ok: true; readonly seconds: number } | { readonly ok: false; readonly reason: string };

const EXAMPLE = 'such as @every 90s, @every 5m or @every 1h30m';

/** The interval of `@every <duration>` in whole seconds, or why it cannot be scheduled. */
export function parseEvery(expression: string): EveryResult {
  const duration = expression.replace(/^@every/i, '').trim();
  if (duration === '') return { ok: false, reason: `@every needs a Go duration, ${EXAMPLE}` };
  const ns = parseGoDurationNs(duration);
  const quoted = JSON.stringify(duration.slice(0, 64));
  if (ns === undefined) {
    return { ok: false, reason: `@every needs a Go duration (a number and a unit: h, m, s, ms), ${EXAMPLE}; found ${quoted}` };
  }
  if (ns < SECOND_NS) {
    return { ok: false, reason: `@every ${duration} is shorter than 1s: slots are whole seconds, so the interval must be at least 1s (e.g. @every 1s)` };
  }
  if (ns % SECOND_NS !== 0n) {
    const down = ns / SECOND_NS;
    return { ok: false, reason: `@every ${duration} is not a whole number of seconds: use @every ${down}s or @every ${down + 1n}s` };
  }
  return { ok: true, seconds: Number(ns / SECOND_NS) };
}

/** The canonical spelling of an interval: what the compile cache and the schedule key use. */
export function canonicalEvery(seconds: number): string {
  return `@every ${seconds}s`;
}

/**
 * The schedule of `@every <seconds>s`: exact and O(1), no croner. Always in UTC; a time zone
 * (the function's, or a CRON_TZ= prefix) changes nothing, as in robfig.
 */
export function everySchedule(expression: string, seconds: number): CompiledSchedule {
  const periodMs = seconds * 1000;
  return {
    expression,
    timezone: 'UTC',
    key: `UTC|${canonicalEvery(seconds)}`,
    intervalMs: periodMs,
    next: (afterMs) => (Math.floor(afterMs / periodMs) + 1) * periodMs,
    previous: (n, atMs) => {
      const slots = new Array<number>(Math.max(0, n));
      let slot = Math.floor(atMs / periodMs) * periodMs;
      for (let i = 0; i < slots.length; i++, slot -= periodMs) slots[i] = slot;
      return slots;
    },
  };
}
