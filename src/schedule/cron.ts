/**
 * Cron expressions, through croner: 5 fields, 6 fields with leading seconds, or a nickname
 * (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly). Day-of-month and
 * day-of-week combine with OR as in Vixie cron. DST follows croner (see docs/adr/0002).
 */
import { Cron } from 'croner';
import { isValidTimezone } from '../config.ts';

export interface CompiledSchedule {
  readonly expression: string;
  readonly timezone: string;
  /** The first fire time strictly after `afterMs`, or undefined when there is none. */
  next(afterMs: number): number | undefined;
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
const cache = new Map<string, CompileResult>();
/** Bounded; a limit below the number of distinct expressions would recompile (and duplicate croner's ~80 KB year table) for every function. */
const CACHE_LIMIT = 10_000;

export function compileSchedule(expression: string, timezone: string): CompileResult {
  const key = `${timezone}|${expression}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const result = compileUncached(expression, timezone);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, result);
  return result;
}

/**
 * Slots are whole seconds, so the next slot after any instant of a second is the next slot after
 * that second's start: the memo is keyed by the second, and every function sharing this schedule
 * that asks during the same second (a discovery pass adding 100,000 of them, a slot firing them)
 * costs one croner computation, not one each.
 */
function memoNext(cron: Cron): (afterMs: number) => number | undefined {
  let lastSecond = Number.NaN;
  let lastNext: number | undefined;
  return (afterMs) => {
    const second = Math.floor(afterMs / 1000) * 1000;
    if (second !== lastSecond) {
      lastNext = cron.nextRun(new Date(second))?.getTime() ?? undefined;
      lastSecond = second;
    }
    return lastNext;
  };
}

/** The shape of croner's parsed pattern that shareYearTable relies on (croner 11 internals). */
interface CronerInternals {
  readonly _states?: { readonly pattern?: { starYear?: unknown; year?: unknown } };
}

let sharedYears: number[] | undefined;

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
  const years = pattern.year as unknown[];
  if (!years.every((y) => y === 1)) return false;
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
  if (/[\u0000-\u001f\u007f]/.test(expression)) return { ok: false, reason: 'expression contains control characters' };
  const problem = fieldProblem(expression) ?? rangeProblem(expression);
  if (problem !== undefined) return { ok: false, reason: problem };
  if (!isValidTimezone(timezone)) return { ok: false, reason: `unknown time zone "${timezone}"` };
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, mode: '5-or-6-parts', paused: true });
  } catch (err) {
    return { ok: false, reason: cleanCronerMessage(err instanceof Error ? err.message : String(err)) };
  }
  shareYearTable(cron);
  if (cron.nextRun() === null) return { ok: false, reason: 'the expression never fires' };
  return {
    ok: true,
    schedule: {
      expression,
      timezone,
      next: memoNext(cron),
    },
  };
}

/** Compiles every expression, or names the first that cannot be scheduled and why. */
export function compileAll(expressions: readonly string[], timezone: string): CompiledSchedule[] | string {
  const compiled: CompiledSchedule[] = [];
  for (const expression of expressions) {
    const result = compileSchedule(expression, timezone);
    if (!result.ok) return `invalid schedule ${JSON.stringify(expression.slice(0, 80))}: ${result.reason}`;
    compiled.push(result.schedule);
  }
  return compiled;
}
