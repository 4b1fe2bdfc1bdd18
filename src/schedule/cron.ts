/**
 * Cron expressions, as robfig/cron v3 reads them (the Go connector's parser), computed by croner:
 * - 5 fields (minute hour day-of-month month day-of-week), or 6 with leading seconds;
 * - descriptors @yearly @annually @monthly @weekly @daily @midnight @hourly, and
 *   `@every <Go duration>` (every.ts: whole multiples of the interval since the Unix epoch);
 * - a `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix: the zone of that one expression.
 * Every expression robfig's standard parser accepts fires at robfig's times (robfig.ts rewrites
 * it into croner syntax that selects the same values: `N/step`, steps past the field, `+N`, empty
 * list entries, and robfig's star rule for day-of-month/day-of-week, which combine with OR unless
 * one is written `*` or `?`), except across DST, where docs/adr/0002 applies. Extensions croner
 * accepts beyond robfig stay accepted, with croner's meaning: a leading seconds field, `L`, `LW`,
 * `W` and `#`, weekday 7 (Sunday), ranges such as MON-SUN, `+` (AND) before a day-of-week that
 * robfig rejects (`+MON`), case-insensitive descriptors and zone names, any whitespace between
 * fields. robfig accepts, and here are rejected: expressions that never fire (`0 0 30 2 *`) and
 * @every intervals below 1s or not whole seconds (robfig rounds them). The conformance table is
 * test/unit/robfig-conformance.test.ts.
 */
import { Cron } from 'croner';
import { hasControlCharacters } from '../text.ts';
import { isValidTimezone } from '../config.ts';
import { canonicalEvery, everySchedule, parseEvery } from './every.ts';
import { robfigToCroner } from './robfig.ts';

export interface CompiledSchedule {
  /** As written, CRON_TZ= prefix included. */
  readonly expression: string;
  /** The zone it is evaluated in: its CRON_TZ=/TZ= prefix, else the function's; UTC for @every. */
  readonly timezone: string;
  /**
   * `<timezone>|<expression>`, without the prefix (`Asia/Tokyo|0 6 * * *`) and with @every in
   * seconds (`UTC|@every 90s`): equal keys schedule the same slots.
   */
  readonly key: string;
  /** Only for `@every`: the interval, ms (slots are its whole multiples since the Unix epoch). */
  readonly intervalMs?: number;
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
      : `unknown nickname "${expression}" (use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>)`;
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
  const hit = cache.get(timezone)?.get(expression);
  if (hit !== undefined) return hit;
  const result = compileUncached(expression, timezone);
  // looked up again: compiling a prefixed or @every expression compiles (and caches) its canonical form
  let byExpression = cache.get(timezone);
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

/** The same schedule under the name it was written with (its memo and key are shared). */
function relabel(result: CompileResult, expression: string): CompileResult {
  if (!result.ok || result.schedule.expression === expression) return result;
  return { ok: true, schedule: { ...result.schedule, expression } };
}

const ZONE_PREFIX = /^(CRON_TZ|TZ)=/;
const EXAMPLE_PREFIX = 'CRON_TZ=Asia/Tokyo 0 6 * * *';

type ZonePrefix = { readonly zone: string; readonly rest: string } | { readonly problem: string };

/**
 * robfig's `CRON_TZ=<zone> ` / `TZ=<zone> ` prefix: the zone up to the first blank, the schedule
 * after it. As in Go, an empty zone is UTC, and Local is the zone an expression without a prefix
 * uses (robfig: the process's; here: the function's com.openfaas.cron.timezone or `timezone`).
 */
function zonePrefix(text: string, timezone: string): ZonePrefix | undefined {
  const prefix = ZONE_PREFIX.exec(text);
  if (prefix === null) {
    const other = /^([A-Za-z_]+)=/.exec(text);
    return other === null ? undefined : { problem: `unknown prefix "${other[1]}=": a time zone prefix is written CRON_TZ=<zone> or TZ=<zone>, e.g. ${EXAMPLE_PREFIX}` };
  }
  const afterEquals = text.slice(prefix[0].length);
  const blank = afterEquals.search(/\s/);
  const rest = blank < 0 ? '' : afterEquals.slice(blank).trim();
  const written = blank < 0 ? afterEquals : afterEquals.slice(0, blank);
  if (rest === '') return { problem: `${prefix[0]}${written} must be followed by a blank and the schedule, e.g. ${EXAMPLE_PREFIX}` };
  if (ZONE_PREFIX.test(rest)) return { problem: `only one CRON_TZ= or TZ= prefix per expression, e.g. ${EXAMPLE_PREFIX}` };
  const zone = written === '' ? 'UTC' : written === 'Local' ? timezone : written;
  if (!isValidTimezone(zone)) {
    return { problem: `unknown time zone ${JSON.stringify(zone.slice(0, 64))} in ${prefix[1]}=: use an IANA name such as Asia/Tokyo or Europe/London` };
  }
  return { zone, rest };
}

const EVERY = /^@every(?:\s|$)/i;

function compileUncached(expression: string, timezone: string): CompileResult {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, reason: `expression longer than ${MAX_EXPRESSION_LENGTH} characters` };
  }
  if (hasControlCharacters(expression)) return { ok: false, reason: 'expression contains control characters' };
  const text = expression.trim();
  const prefixed = zonePrefix(text, timezone);
  if (prefixed !== undefined) {
    if ('problem' in prefixed) return { ok: false, reason: prefixed.problem };
    // compiled (and cached, and memoized) once per zone and expression, whatever zone the function has
    return relabel(compileSchedule(prefixed.rest, prefixed.zone), expression);
  }
  if (EVERY.test(text)) {
    const every = parseEvery(text);
    if (!every.ok) return { ok: false, reason: every.reason };
    const canonical = canonicalEvery(every.seconds);
    if (expression !== canonical || timezone !== 'UTC') return relabel(compileSchedule(canonical, 'UTC'), expression);
    return { ok: true, schedule: everySchedule(canonical, every.seconds) };
  }
  const fieldCount = fieldProblem(text);
  if (fieldCount !== undefined) return { ok: false, reason: fieldCount };
  let pattern = text;
  if (!text.startsWith('@')) {
    const robfig = robfigToCroner(text.split(/\s+/));
    if (robfig.kind === 'never') return { ok: false, reason: robfig.reason };
    if (robfig.kind === 'croner') pattern = robfig.expression;
    else {
      // not robfig syntax: croner's extensions (L, W, #, weekday 7) or a mistake croner names
      const range = rangeProblem(text);
      if (range !== undefined) return { ok: false, reason: range };
    }
  }
  if (!isValidTimezone(timezone)) return { ok: false, reason: `unknown time zone "${timezone}"` };
  let cron: Cron;
  try {
    // UTC as a fixed offset: croner then computes with plain date arithmetic instead of asking
    // Intl for the zone's local time at every step (the same times, several times faster)
    const zone = timezone === 'UTC' || timezone === 'Etc/UTC' ? { utcOffset: 0 } : { timezone };
    cron = new Cron(pattern, { ...zone, mode: '5-or-6-parts', paused: true });
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

/**
 * Compiles every expression, or names the first that cannot be scheduled and why. Two spellings
 * of one schedule (`@every 90s` and `@every 1m30s`, or a prefix naming the function's own zone)
 * share a key and are kept once, as repeated expressions are.
 */
export function compileAll(expressions: readonly string[], timezone: string): CompiledSchedule[] | string {
  // sized up front: a pushed-to array keeps room for 17 elements, and every function keeps one
  const compiled = new Array<CompiledSchedule>(expressions.length);
  let kept = 0;
  for (let i = 0; i < expressions.length; i++) {
    const expression = expressions[i] as string;
    const result = compileSchedule(expression, timezone);
    if (!result.ok) return `invalid schedule ${JSON.stringify(expression.slice(0, 80))}: ${result.reason}`;
    const schedule = result.schedule;
    if (i > 0 && compiled.some((s, j) => j < kept && s.key === schedule.key)) continue;
    compiled[kept++] = schedule;
  }
  if (kept < compiled.length) compiled.length = kept;
  return compiled;
}
