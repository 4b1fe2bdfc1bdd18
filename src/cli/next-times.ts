/**
 * The next fire times of a schedule annotation, exactly as the daemon computes them: the same
 * split on ";" (splitSchedules), the same parser (compileSchedule) and the same "strictly after"
 * rule. Several expressions are merged into one sorted list; an instant two expressions share
 * appears once, naming both (the daemon invokes the function once per expression). Each time is
 * shown in the zone of its expression: a CRON_TZ=/TZ= prefix, else the requested zone. Pure.
 */
import { isValidTimezone } from '../config.ts';
import { MAX_SCHEDULES, splitSchedules } from '../schedule/annotations.ts';
import { compileAll, type CompiledSchedule } from '../schedule/cron.ts';
import { zonedTime } from './zoned-time.ts';

export const DEFAULT_COUNT = 5;
export const MAX_COUNT = 1000;

export interface FireTime {
  /** ms since the epoch */
  readonly at: number;
  /** The expressions that fire at this instant. */
  readonly expressions: readonly string[];
  /** The zone to show it in: the first expression's (its CRON_TZ= prefix, else the requested zone). */
  readonly timezone: string;
}

export type NextResult =
  | { readonly ok: true; readonly expressions: readonly string[]; readonly times: readonly FireTime[] }
  | { readonly ok: false; readonly reason: string };

export interface NextRequest {
  readonly schedule: string;
  readonly timezone: string;
  /** Fire times are strictly after this instant (ms since the epoch). */
  readonly fromMs: number;
  readonly count: number;
}

function compileRequest(req: NextRequest): CompiledSchedule[] | string {
  if (!isValidTimezone(req.timezone)) {
    return `unknown time zone ${JSON.stringify(req.timezone.slice(0, 64))}: use an IANA name such as UTC, Europe/London or America/New_York`;
  }
  const expressions = splitSchedules(req.schedule);
  if (expressions.length === 0) return 'no expression given: try e.g. "*/5 * * * *"';
  if (expressions.length > MAX_SCHEDULES) return `more than ${MAX_SCHEDULES} schedules`;
  return compileAll(expressions, req.timezone);
}

/** The zone a schedule's times are shown in: its own, but @every (always UTC) in the requested one. */
function displayZone(s: CompiledSchedule, requested: string | undefined): string {
  return s.intervalMs !== undefined && requested !== undefined ? requested : s.timezone;
}

/** Merges the schedules' sequences: one cursor per schedule, the smallest wins each round. */
export function mergeFireTimes(schedules: readonly CompiledSchedule[], fromMs: number, count: number, timezone?: string): FireTime[] {
  const cursors = schedules.map((s) => s.next(fromMs));
  const times: FireTime[] = [];
  while (times.length < count) {
    const defined = cursors.filter((t): t is number => t !== undefined);
    if (defined.length === 0) break;
    const at = Math.min(...defined);
    const expressions: string[] = [];
    let zone: string | undefined;
    schedules.forEach((s, i) => {
      if (cursors[i] !== at) return;
      expressions.push(s.expression);
      zone ??= displayZone(s, timezone);
      cursors[i] = s.next(at);
    });
    times.push({ at, expressions, timezone: zone ?? timezone ?? 'UTC' });
  }
  return times;
}

export function nextFireTimes(req: NextRequest): NextResult {
  const compiled = compileRequest(req);
  if (typeof compiled === 'string') return { ok: false, reason: compiled };
  return { ok: true, expressions: compiled.map((s) => s.expression), times: mergeFireTimes(compiled, req.fromMs, req.count, req.timezone) };
}

/**
 * One line per fire time: local time, offset and zone (the expression's: `timezone` unless it has
 * a CRON_TZ= prefix), then the UTC instant (and expressions).
 */
export function formatFireTimes(result: Extract<NextResult, { ok: true }>, timezone: string): string {
  const several = result.expressions.length > 1;
  return result.times
    .map((t) => {
      const zone = t.timezone || timezone;
      const z = zonedTime(t.at, zone);
      const line = `${z.local} ${z.offset} (${zone})  ${new Date(t.at).toISOString()}`;
      return several ? `${line}  ${t.expressions.join('; ')}\n` : `${line}\n`;
    })
    .join('');
}

/** The --json document. Stable: fields are only ever added. */
export interface NextDocument {
  readonly ok: true;
  readonly expressions: readonly string[];
  /** The requested zone: that of every expression without a CRON_TZ= prefix. */
  readonly timezone: string;
  /** RFC 3339 UTC: every time listed is strictly after it. */
  readonly from: string;
  readonly count: number;
  /**
   * `local` and `offset` are in the requested `timezone`, or in the time's own `timezone`, given
   * only when its expression's CRON_TZ= prefix names another zone.
   */
  readonly times: ReadonlyArray<{ utc: string; local: string; offset: string; timezone?: string; expressions: readonly string[] }>;
}

export function fireTimesDocument(result: Extract<NextResult, { ok: true }>, req: NextRequest): NextDocument {
  return {
    ok: true,
    expressions: result.expressions,
    timezone: req.timezone,
    from: new Date(req.fromMs).toISOString(),
    count: result.times.length,
    times: result.times.map((t) => {
      const zone = t.timezone || req.timezone;
      const z = zonedTime(t.at, zone);
      return { utc: new Date(t.at).toISOString(), local: z.local, offset: z.offset, ...(zone === req.timezone ? {} : { timezone: zone }), expressions: t.expressions };
    }),
  };
}
