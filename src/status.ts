/** The /schedules document: every scheduled function with its next fire times and last result. */
import type { LastRun } from './invoker.ts';
import { entryKey } from './reconcile.ts';
import type { DesiredState } from './schedule/desired.ts';

export interface ScheduleStatus {
  readonly expression: string;
  readonly next: readonly string[];
}

export interface FunctionStatusView {
  readonly function: string;
  readonly name: string;
  readonly namespace: string;
  readonly timezone: string;
  readonly async: boolean;
  readonly retries: number;
  readonly concurrency: string;
  readonly schedules: readonly ScheduleStatus[];
  readonly last: LastRun | null;
}

export interface SchedulesDocument {
  readonly generatedAt: string;
  readonly scheduled: readonly FunctionStatusView[];
  readonly rejected: ReadonlyArray<{ function: string; namespace: string; reason: string }>;
}

const NEXT_COUNT = 3;

function nextTimes(first: number | undefined, next: (after: number) => number | undefined): string[] {
  const out: string[] = [];
  for (let t = first; t !== undefined && out.length < NEXT_COUNT; t = next(t)) out.push(new Date(t).toISOString());
  return out;
}

export function schedulesDocument(
  state: DesiredState,
  nextFire: (key: string) => number | undefined,
  lastRun: (id: string) => LastRun | undefined,
  now: number,
): SchedulesDocument {
  const scheduled = [...state.functions.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((fn) => ({
      function: fn.id,
      name: fn.name,
      namespace: fn.namespace,
      timezone: fn.timezone,
      async: fn.async,
      retries: fn.retries,
      concurrency: fn.concurrency,
      schedules: fn.schedules.map((s) => ({ expression: s.expression, next: nextTimes(nextFire(entryKey(fn, s)), s.next) })),
      last: lastRun(fn.id) ?? null,
    }));
  const rejected = [...state.rejected.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((r) => ({ function: r.id, namespace: r.namespace, reason: r.reason }));
  return { generatedAt: new Date(now).toISOString(), scheduled, rejected };
}
