/**
 * Cron expressions, through croner: 5 fields, 6 fields with leading seconds, or a nickname
 * (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly). Day-of-month and
 * day-of-week combine with OR as in Vixie cron. DST follows croner (see docs/adr/0002).
 */
import { Cron } from 'croner';
import { hasControlCharacters } from '../text.ts';
import { isValidTimezone } from '../config.ts';

export interface CompiledSchedule {
  readonly expression: string;
  readonly timezone: string;
  /** `<timezone>|<expression>`: equal keys schedule the same slots. */
  readonly key: string;
  /** The first fire time strictly after `afterMs`, or undefined when there is none. */
  readonly next: (afterMs: number) => number | undefined;
  /** Up to `n` fire times at or before `atMs`, newest first. */
  readonly previous: (n: number, atMs: number) => number[];
}

export const MAX_EXPRESSION_LENGTH = 256;
const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

export type CompileResult =
  | { readonly ok: true; readonly schedule: CompiledSchedule }
  | { readonly ok: false; readonly reason: string };

function cleanCronerMessage(message: string): string {
  return message.replace(/^CronPattern: /, '').replace(/^CronOptions: /, '');
}

function fieldProblem(expression: string): string | undefined {
  if (expression.startsWith('@')) {
    return NICKNAMES.has(expression.toLowerCase())
      ? undefined
      : `unknown nickname "${expression}" (use @yearly, @monthly, @weekly, @daily or @hourly)`;
  }
  const fields = expression.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    return `expected 5 fields (minute hour day month weekday) or 6 with leading seconds, found ${fields}`;
  }
  return undefined;
}

/**
 * Compiled schedules are shared: thousands of functions on "0 * * * *" use one instance, and
 * its one-entry memo computes the next slot once for all of them.
 */
const cache = new Map<string, Map<string, CompileResult>>();
let cached = 0;
/** Bounded (reached, it starts over); below the number of distinct expressions it would recompile for every function. */
const CACHE_LIMIT = 10_000;

export function compileSchedule(expression: string, timezone: string): CompileResult {
  // by zone, then expression: no key string to build and hash for each of 100,000 lookups
  let byExpression = cache.get(timezone);
  const hit = byExpression?.get(expression);
  if (hit !== undefined) return hit;
  const result = compileUncached(expression, timezone);
  if (cached >= CACHE_LIMIT) {
    cache.clear();
    cached = 0;
    byExpression = undefined;
  }
  if (byExpression === undefined) {
    byExpression = new Map();
    cache.set(timezone, byExpression);
  }
  byExpression.set(expression, result);
  cached++;
  return result;
}

/**
 * next() is memoized over the interval it answers: once next(t0) = n0 is known, every t in
 * [t0, n0) has the same answer (a slot between them would have been the answer for t0). t0 is
 * taken at the start of t's second, which changes nothing because slots are whole seconds. So
 * the 100,000 functions a discovery pass adds, or a slot fires, on one expression cost one
 * croner computation, not one each, and a daily expression costs one per day.
 */
function memoNext(cron: Cron, seed?: { readonly from: number; readonly next: number | undefined }): (afterMs: number) => number | undefined {
  let from = seed?.from ?? Number.NaN;
  let next = seed?.next;
  return (afterMs) => {
    if (afterMs >= from && (next === undefined || afterMs < next)) return next;
    from = Math.floor(afterMs / 1000) * 1000;
    next = cron.nextRun(new Date(from))?.getTime() ?? undefined;
    return next;
  };
}

/** The shape of croner's parsed pattern that shareYearTable relies on (croner 11 internals). */
interface CronerInternals {
  readonly _states?: { readonly pattern?: { starYear?: unknown; year?: unknown } };
}

let sharedYears: number[] | undefined;
const YEAR_TABLE_LENGTH = 10_000;

/**
 * croner keeps a 10,000-entry year table (~80 KB) in every parsed pattern; with 5- and 6-field
 * expressions it is always "every year", all ones, and only read. Every compiled pattern points
 * at one shared table instead, so 1,000 distinct expressions cost ~3 MB, not ~80 MB. If croner's
 * internals change shape, nothing is shared and only memory is lost (test/unit/cron.test.ts
 * notices).
 */
export function shareYearTable(cron: Cron): boolean {
  const pattern = (cron as unknown as CronerInternals)._states?.pattern;
  if (pattern?.starYear !== true || !Array.isArray(pattern.year) || pattern.year.length === 0) return false;
  // croner fills the table with ones whenever the year field is "*" (starYear); spot-check it
  const years = pattern.year as unknown[];
  if (years.length !== YEAR_TABLE_LENGTH || years[0] !== 1 || years[YEAR_TABLE_LENGTH - 1] !== 1) return false;
  sharedYears ??= years as number[];
  pattern.year = sharedYears;
  return true;
}

/** Fields whose numbers croner reports 0-based: checked here so messages name the value written. */
const ONE_BASED_FIELDS: ReadonlyArray<{ readonly name: string; readonly fromEnd: number; readonly max: number }> = [
  { name: 'day-of-month', fromEnd: 3, max: 31 },
  { name: 'month', fromEnd: 2, max: 12 },
];

function rangeProblem(expression: string): string | undefined {
  if (expression.startsWith('@')) return undefined;
  const fields = expression.split(/\s+/);
  for (const { name, fromEnd, max } of ONE_BASED_FIELDS) {
    const field = fields[fields.length - fromEnd] ?? '';
    for (const part of field.split(',')) {
      const [range = ''] = part.split('/');
      for (const bound of range.split('-')) {
        if (/^\d+$/.test(bound) && (Number(bound) < 1 || Number(bound) > max)) {
          return `${name} ${bound} is out of range (1-${max})`;
        }
      }
    }
  }
  return undefined;
}

function compileUncached(expression: string, timezone: string): CompileResult {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, reason: `expression longer than ${MAX_EXPRESSION_LENGTH} characters` };
  }
  if (hasControlCharacters(expression)) return { ok: false, reason: 'expression contains control characters' };
  const problem = fieldProblem(expression) ?? rangeProblem(expression);
  if (problem !== undefined) return { ok: false, reason: problem };
  if (!isValidTimezone(timezone)) return { ok: false, reason: `unknown time zone "${timezone}"` };
  let cron: Cron;
  try {
    // UTC as a fixed offset: croner then computes with plain date arithmetic instead of asking
    // Intl for the zone's local time at every step (the same times, several times faster)
    const zone = timezone === 'UTC' || timezone === 'Etc/UTC' ? { utcOffset: 0 } : { timezone };
    cron = new Cron(expression, { ...zone, mode: '5-or-6-parts', paused: true });
  } catch (err) {
    return { ok: false, reason: cleanCronerMessage(err instanceof Error ? err.message : String(err)) };
  }
  shareYearTable(cron);
  // the first slot from now, which also seeds the memo (a discovery pass asks for it next)
  const second = Math.floor(Date.now() / 1000) * 1000;
  const first = cron.nextRun(new Date(second));
  if (first === null) return { ok: false, reason: 'the expression never fires' };
  return {
    ok: true,
    schedule: {
      expression,
      timezone,
      key: `${timezone}|${expression}`,
      next: memoNext(cron, { from: second, next: first.getTime() }),
      previous: (n, atMs) => cron.previousRuns(n, new Date(atMs + 1)).map((d) => d.getTime()),
    },
  };
}

/** Compiles every expression, or names the first that cannot be scheduled and why. */
export function compileAll(expressions: readonly string[], timezone: string): CompiledSchedule[] | string {
  // sized up front: a pushed-to array keeps room for 17 elements, and every function keeps one
  const compiled = new Array<CompiledSchedule>(expressions.length);
  for (let i = 0; i < expressions.length; i++) {
    const expression = expressions[i] as string;
    const result = compileSchedule(expression, timezone);
    if (!result.ok) return `invalid schedule ${JSON.stringify(expression.slice(0, 80))}: ${result.reason}`;
    compiled[i] = result.schedule;
  }
  return compiled;
}
