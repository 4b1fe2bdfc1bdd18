/**
 * Which missed slots still run (docs/adr/0007). Pure.
 *
 * A slot is missed when it was not handed to the gateway on time: the process was paused or
 * suspended, or no replica led (a fail-over, an API-server outage, every replica down). Per
 * function, `com.openfaas.cron.catchup` says which of them run late:
 * - `all` (default): each one, oldest first, at most the newest MAX_CATCH_UP_SLOTS;
 * - `latest`: only the newest one (Kubernetes CronJob);
 * - `none`: none (the OpenFaaS Go connector).
 * `com.openfaas.cron.deadline` bounds how late a missed slot may still run. Every missed slot
 * that does not run is counted as skipped.
 */
import type { CompiledSchedule } from './cron.ts';

export type CatchUp = 'none' | 'latest' | 'all';

export const CATCH_UP_POLICIES: readonly CatchUp[] = ['all', 'latest', 'none'];
export const DEFAULT_CATCH_UP: CatchUp = 'all';
/** At most this many missed slots of one function run late, as Kubernetes CronJob counts 100. */
export const MAX_CATCH_UP_SLOTS = 100;
/** Missed slots are counted one by one up to this many; beyond, the count is a lower bound. */
export const MAX_COUNTED = 10_000;

export interface CatchUpPolicy {
  readonly catchup: CatchUp;
  /** How late a missed slot may still run, ms; undefined: no limit. */
  readonly deadlineMs: number | undefined;
}

export interface CatchUpPlan {
  /** Nominal times to run now, oldest first. */
  readonly run: readonly number[];
  /** Missed slots that do not run (too many, too late, or the policy). */
  readonly skipped: number;
  /** True when there were more missed slots than MAX_COUNTED: `skipped` is then a lower bound. */
  readonly countTruncated: boolean;
}

const NOTHING: CatchUpPlan = Object.freeze({ run: [], skipped: 0, countTruncated: false });

/**
 * The plan for the slots of `schedule` in [fromMs, nowMs] (fromMs inclusive: the first missed
 * slot, or one millisecond after the last slot handed over).
 */
export function planCatchUp(schedule: CompiledSchedule, fromMs: number, nowMs: number, policy: CatchUpPolicy): CatchUpPlan {
  if (fromMs > nowMs) return NOTHING;
  // count them, oldest first, up to a bound (a week of an every-second schedule is 604,800)
  let missed = 0;
  let countTruncated = false;
  for (let slot = schedule.next(fromMs - 1); slot !== undefined && slot <= nowMs; slot = schedule.next(slot)) {
    if (missed === MAX_COUNTED) {
      countTruncated = true;
      break;
    }
    missed++;
  }
  if (missed === 0) return NOTHING;
  const oldestAllowed = policy.deadlineMs === undefined ? fromMs : Math.max(fromMs, nowMs - policy.deadlineMs);
  const wanted = policy.catchup === 'all' ? MAX_CATCH_UP_SLOTS : policy.catchup === 'latest' ? 1 : 0;
  const run = wanted === 0 ? [] : schedule.previous(wanted, nowMs).filter((slot) => slot >= oldestAllowed).reverse();
  return { run, skipped: Math.max(0, missed - run.length), countTruncated };
}
