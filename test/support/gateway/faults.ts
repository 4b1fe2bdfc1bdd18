/**
 * Fault switches per route group: make the gateway drop, fail, garble, hang or slow down requests,
 * or answer with a scripted response (raw body, redirect, dribbling or endless body).
 */
import { validateScriptedResponse } from './scripted-response.ts';
import type { ScriptedResponse } from './scripted-response.ts';

export type RouteGroup = 'token' | 'namespaces' | 'functions' | 'invoke';
export type FaultTarget = RouteGroup | 'all';

/** `times`: apply to the next N matching requests only, then clear (every kind accepts it). */
export type Fault =
  | { kind: 'down'; times?: number }
  | { kind: 'status'; status: number; body?: string; times?: number }
  | { kind: 'garbage'; times?: number }
  | { kind: 'hang'; times?: number }
  | { kind: 'slow'; delayMs: number; times?: number }
  | { kind: 'respond'; response: ScriptedResponse; times?: number };

export class FaultSwitch {
  readonly #faults = new Map<FaultTarget, Fault>();

  set(target: FaultTarget, fault: Fault | undefined): void {
    if (fault === undefined) {
      this.#faults.delete(target);
      return;
    }
    validate(fault);
    this.#faults.set(target, { ...fault });
  }

  clear(): void {
    this.#faults.clear();
  }

  /**
   * The fault to apply to one request of `group` (a route-specific fault wins over `all`),
   * counting it against the fault's `times`.
   */
  take(group: RouteGroup | undefined): Fault | undefined {
    const target = group !== undefined && this.#faults.has(group) ? group : 'all';
    const fault = this.#faults.get(target);
    if (fault?.times === undefined) return fault;
    if (fault.times <= 1) this.#faults.delete(target);
    else this.#faults.set(target, { ...fault, times: fault.times - 1 });
    return fault;
  }
}

function validate(fault: Fault): void {
  if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) {
    throw new Error(`fault times must be a positive integer, got ${fault.times}`);
  }
  if (fault.kind === 'status' && !(Number.isInteger(fault.status) && fault.status >= 100 && fault.status <= 599)) {
    throw new Error(`fault status must be an HTTP status code, got ${fault.status}`);
  }
  if (fault.kind === 'slow' && !(fault.delayMs >= 0)) {
    throw new Error(`fault delayMs must be >= 0, got ${fault.delayMs}`);
  }
  if (fault.kind === 'respond') validateScriptedResponse(fault.response);
}
