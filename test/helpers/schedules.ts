/** Compiled schedules for tests: compile or throw, and the next fire times as ISO strings. */
import { compileSchedule, type CompiledSchedule } from '../../src/schedule/cron.ts';

export function compile(expression: string, timezone = 'UTC'): CompiledSchedule {
  const r = compileSchedule(expression, timezone);
  if (!r.ok) throw new Error(`${JSON.stringify(expression)} rejected: ${r.reason}`);
  return r.schedule;
}

/** The first `n` fire times strictly after `from`, as ISO strings (fewer when the schedule ends). */
export function runs(s: CompiledSchedule, from: string, n: number): string[] {
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = s.next(t);
    if (next === undefined) break;
    out.push(new Date(next).toISOString());
    t = next;
  }
  return out;
}
