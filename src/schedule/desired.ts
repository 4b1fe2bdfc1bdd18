/**
 * One discovery pass, as pure data: what each namespace answered becomes the desired state, and
 * the desired state is compared with the running one. Rules (docs/adr/0001):
 * - a namespace that answered keeps exactly its selected functions;
 * - a namespace that failed (network, 5xx, timeout, bad JSON) keeps what was scheduled before;
 * - a namespace that answered 403/404 or left the list loses all its functions;
 * - unchanged functions (same signature) are reused untouched, so their timers stay in place.
 */
import type { GatewayFunction } from '../gateway/types.ts';
import { selectFunction, type DesiredFunction, type SelectionDefaults } from './annotations.ts';
import type { CompiledSchedule } from './cron.ts';

/** One namespace's functions, already selected: what is scheduled and what is rejected. */
export interface NamespaceSelection {
  readonly functions: readonly DesiredFunction[];
  readonly rejected: readonly Rejection[];
}

export type NamespaceOutcome =
  | { readonly namespace: string; readonly kind: 'selected'; readonly selection: NamespaceSelection }
  | { readonly namespace: string; readonly kind: 'gone'; readonly reason: string; readonly hint?: string }
  | { readonly namespace: string; readonly kind: 'failed'; readonly error: string; readonly key?: string };

export interface Rejection {
  readonly id: string;
  readonly namespace: string;
  readonly reason: string;
  readonly signature: string;
}

export interface DesiredState {
  readonly functions: ReadonlyMap<string, DesiredFunction>;
  readonly rejected: ReadonlyMap<string, Rejection>;
}

export const EMPTY_STATE: DesiredState = { functions: new Map(), rejected: new Map() };

/** Keeps what was scheduled (and rejected) in namespaces that could not be read: one pass, O(n). */
function carryOver(previous: DesiredState, failed: ReadonlySet<string>, into: { functions: Map<string, DesiredFunction>; rejected: Map<string, Rejection> }): void {
  if (failed.size === 0) return;
  for (const fn of previous.functions.values()) if (failed.has(fn.namespace)) into.functions.set(fn.id, fn);
  for (const r of previous.rejected.values()) if (failed.has(r.namespace)) into.rejected.set(r.id, r);
}

/**
 * Selects one namespace's listing as soon as it arrives, so the parsed listing can be dropped
 * before the next one is read. Unchanged functions are the objects of `previous`.
 */
export function selectNamespace(functions: readonly GatewayFunction[], previous: DesiredState, defaults: SelectionDefaults): NamespaceSelection {
  const selected: DesiredFunction[] = [];
  const rejected: Rejection[] = [];
  for (const gf of functions) {
    const selection = selectFunction(gf, defaults, previous.functions);
    if (selection.kind === 'selected') selected.push(selection.fn);
    else if (selection.kind === 'rejected') rejected.push(selection);
  }
  return { functions: selected, rejected };
}

function addSelection(selection: NamespaceSelection, into: { functions: Map<string, DesiredFunction>; rejected: Map<string, Rejection> }): void {
  for (const fn of selection.functions) into.functions.set(fn.id, fn);
  for (const r of selection.rejected) into.rejected.set(r.id, r);
}

export function desiredState(outcomes: readonly NamespaceOutcome[], previous: DesiredState): DesiredState {
  const next = { functions: new Map<string, DesiredFunction>(), rejected: new Map<string, Rejection>() };
  const failed = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.kind === 'selected') addSelection(outcome.selection, next);
    else if (outcome.kind === 'failed') failed.add(outcome.namespace);
  }
  carryOver(previous, failed, next);
  return next;
}

export interface ScheduleChange {
  readonly fn: DesiredFunction;
  readonly schedules: readonly CompiledSchedule[];
}

export interface Plan {
  /** Schedules to start, with the function they belong to. */
  readonly add: readonly ScheduleChange[];
  /** Schedules to stop. */
  readonly remove: readonly ScheduleChange[];
  /** Functions whose schedules stay but whose invocation settings changed (async, topic). */
  readonly update: readonly DesiredFunction[];
}

function splitByKey(before: DesiredFunction, after: DesiredFunction): { add: CompiledSchedule[]; remove: CompiledSchedule[] } {
  const beforeKeys = new Set(before.schedules.map((s) => s.key));
  const afterKeys = new Set(after.schedules.map((s) => s.key));
  return {
    add: after.schedules.filter((s) => !beforeKeys.has(s.key)),
    remove: before.schedules.filter((s) => !afterKeys.has(s.key)),
  };
}

/** O(n) keyed diff of running vs desired functions, at the granularity of single schedules. */
export function planChanges(current: ReadonlyMap<string, DesiredFunction>, next: ReadonlyMap<string, DesiredFunction>): Plan {
  const add: ScheduleChange[] = [];
  const remove: ScheduleChange[] = [];
  const update: DesiredFunction[] = [];
  for (const [id, before] of current) {
    const after = next.get(id);
    if (after === undefined) remove.push({ fn: before, schedules: before.schedules });
    else if (after !== before && after.signature !== before.signature) {
      const split = splitByKey(before, after);
      if (split.remove.length > 0) remove.push({ fn: before, schedules: split.remove });
      if (split.add.length > 0) add.push({ fn: after, schedules: split.add });
      update.push(after);
    }
  }
  for (const [id, after] of next) {
    if (!current.has(id)) add.push({ fn: after, schedules: after.schedules });
  }
  return { add, remove, update };
}
