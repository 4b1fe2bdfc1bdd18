/**
 * `cron-connector next '<schedule>' [--tz Zone] [-n N] [--from ISO] [--json]`: the next fire times
 * of a schedule annotation, to write schedules and see what DST does to them.
 * Exit codes: 0 printed, 1 bad expression or zone, 2 usage error.
 */
import type { Env } from '../config.ts';
import { UsageError, booleanFlag, parseCommandArgs, stringFlag, type ParsedArgs } from './args.ts';
import type { Io } from './io.ts';
import { DEFAULT_COUNT, MAX_COUNT, fireTimesDocument, formatFireTimes, nextFireTimes, type NextRequest } from './next-times.ts';

export const NEXT_HELP = `Usage: cron-connector next '<schedule>' [--tz Zone] [-n N] [--from ISO] [--json]

Prints the next fire times of a schedule annotation, computed as the connector does: one or more
expressions separated by ";" (5 fields, 6 with leading seconds, @daily and friends, or
@every <duration>), merged and sorted, each as local time with its UTC offset, then the UTC instant.
An expression may start with CRON_TZ=<zone> (or TZ=<zone>): its times are computed, and shown, in
that zone. @every slots are whole multiples of the interval since the Unix epoch (UTC).

Options:
  --tz Zone     IANA time zone of the expressions without a CRON_TZ= prefix (default: the
                timezone variable, else UTC)
  -n N          how many fire times, 1 to ${MAX_COUNT} (default ${DEFAULT_COUNT})
  --from ISO    list fire times strictly after this instant, e.g. 2026-03-28T12:00:00Z (default: now)
  --json        one JSON document on stdout
  -h, --help    print this help

Examples:
  cron-connector next '30 1 * * *' --tz Europe/London --from 2026-03-28T12:00:00Z -n 2
  cron-connector next 'CRON_TZ=Asia/Tokyo 0 6 * * ?; @every 90s'
`;

const OPTIONS = {
  tz: { type: 'string' },
  n: { type: 'string', short: 'n' },
  from: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCount(text: string | undefined): number {
  if (text === undefined) return DEFAULT_COUNT;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_COUNT) throw new UsageError(`-n must be a whole number from 1 to ${MAX_COUNT}, found ${JSON.stringify(text)}`);
  return n;
}

function parseFrom(text: string | undefined, now: number): number {
  if (text === undefined) return now;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--from must be an ISO 8601 instant such as 2026-03-28T12:00:00Z, found ${JSON.stringify(text)}`);
  return ms;
}

function toRequest(args: ParsedArgs, env: Env, now: number): NextRequest {
  if (args.positionals.length === 0) throw new UsageError("missing the schedule, e.g. cron-connector next '*/5 * * * *'");
  return {
    // unquoted fields (next 0 9 '*' '*' MON-FRI) are joined back into one expression
    schedule: args.positionals.join(' '),
    timezone: stringFlag(args, 'tz')?.trim() || env.timezone?.trim() || 'UTC',
    fromMs: parseFrom(stringFlag(args, 'from'), now),
    count: parseCount(stringFlag(args, 'n')),
  };
}

function print(req: NextRequest, json: boolean, io: Io): number {
  const result = nextFireTimes(req);
  if (!result.ok) {
    if (json) io.out(`${JSON.stringify({ ok: false, error: result.reason }, null, 2)}\n`);
    else io.err(`cron-connector next: ${result.reason}\n`);
    return 1;
  }
  io.out(json ? `${JSON.stringify(fireTimesDocument(result, req), null, 2)}\n` : formatFireTimes(result, req.timezone));
  return 0;
}

export function runNext(argv: readonly string[], env: Env, io: Io, now: number): number {
  try {
    const args = parseCommandArgs(argv, OPTIONS);
    if (booleanFlag(args, 'help')) {
      io.out(NEXT_HELP);
      return 0;
    }
    return print(toRequest(args, env, now), booleanFlag(args, 'json'), io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`cron-connector next: ${err.message}; see cron-connector next --help\n`);
    return 2;
  }
}
