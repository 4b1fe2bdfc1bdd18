/**
 * From a function's annotations to what should be scheduled. Pure.
 *
 * Annotations:
 * - topic: comma-separated list; the function is selected when it contains the configured topic
 * - schedule: one or more cron expressions separated by ";"
 * - com.openfaas.cron.timezone: IANA zone for this function's schedules
 * - com.openfaas.cron.async: true/false, overrides asynchronous_invocation
 * - async: the Go connector's spelling of the same (com.openfaas.cron.async wins when both are set)
 * - com.openfaas.cron.catchup, com.openfaas.cron.deadline: which missed slots still run (catchup.ts)
 * A selected function whose annotations cannot be scheduled is rejected as a whole, with the
 * reason, so a typo never half-schedules a function.
 */
import { MAX_RETRIES, isValidTimezone } from '../config.ts';
import { parseDuration } from '../duration.ts';
import type { GatewayFunction } from '../gateway/types.ts';
import { CATCH_UP_POLICIES, DEFAULT_CATCH_UP, type CatchUp } from './catchup.ts';
import { compileAll, type CompiledSchedule } from './cron.ts';

export const ANNOTATION = Object.freeze({
  topic: 'topic',
  schedule: 'schedule',
  timezone: 'com.openfaas.cron.timezone',
  async: 'com.openfaas.cron.async',
  /** The openfaas/cron-connector (Go) annotation: "true" invokes through /async-function/. */
  goAsync: 'async',
  retries: 'com.openfaas.cron.retries',
  concurrency: 'com.openfaas.cron.concurrency',
  jitter: 'com.openfaas.cron.jitter',
  catchup: 'com.openfaas.cron.catchup',
  deadline: 'com.openfaas.cron.deadline',
});

/** Bounds of com.openfaas.cron.deadline: a second (slots are whole seconds) to a year. */
export const MIN_DEADLINE_MS = 1000;
export const MAX_DEADLINE_MS = 8760 * 3_600_000;

/** Largest jitter accepted: spreading a burst over more than this is a different schedule. */
export const MAX_JITTER_MS = 3_600_000;

export type Concurrency = 'allow' | 'forbid';

export const MAX_SCHEDULES = 32;

export interface SelectionDefaults {
  readonly topic: string;
  readonly timezone: string;
  readonly async: boolean;
  readonly retries: number;
}

/** A function as it should be scheduled. */
export interface DesiredFunction {
  /** `<name>.<namespace>`, the identity used in logs and in the diff. */
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  /** The topic annotation made header-safe, sent as X-Topic. */
  readonly topic: string;
  readonly async: boolean;
  readonly timezone: string;
  /** Retries after a network error or 429/502/503/504. */
  readonly retries: number;
  /** forbid: skip a slot while the previous call of this function is still running. */
  readonly concurrency: Concurrency;
  /** Fixed delay after each nominal time, derived from the function id, to spread bursts (0 = off). */
  readonly jitterOffsetMs: number;
  /** Which missed slots still run late (docs/adr/0007). */
  readonly catchup: CatchUp;
  /** How late a missed slot may still run, ms; undefined: no limit. */
  readonly deadlineMs: number | undefined;
  readonly schedules: readonly CompiledSchedule[];
  /** Equal signatures mean equal scheduling inputs: the diff compares these. */
  readonly signature: string;
}

export type Selection =
  | { readonly kind: 'ignored' }
  | { readonly kind: 'selected'; readonly fn: DesiredFunction }
  | { readonly kind: 'rejected'; readonly id: string; readonly namespace: string; readonly reason: string; readonly signature: string };

export function functionId(name: string, namespace: string): string {
  // join() makes one flat string, not a rope kept alive for every function
  return [name, namespace].join('.');
}

export function hasTopic(annotation: string | undefined, topic: string): boolean {
  if (annotation === undefined) return false;
  if (annotation === topic) return true;
  if (!annotation.includes(',')) return annotation.trim() === topic;
  return annotation.split(',').some((t) => t.trim() === topic);
}

/** Splits the schedule annotation on ";", trimming and dropping empty and repeated entries. */
export function splitSchedules(annotation: string): string[] {
  if (!annotation.includes(';')) {
    // one expression, the common case: no arrays to build
    const one = /[^\S ]| {2}/.test(annotation) ? annotation.trim().replace(/\s+/g, ' ') : annotation.trim();
    return one === '' ? [] : [one];
  }
  const parts = annotation
    .split(';')
    .map((s) => s.trim().replace(/\s+/g, ' '))
    .filter((s) => s !== '');
  return [...new Set(parts)];
}

/** The value, or undefined when it is absent or blank. */
function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * com.openfaas.cron.async, else the Go connector's `async`, else the default. Both read
 * true/false/1/0 in any case and reject anything else (the Go connector treats any value but
 * "true" as false: a typo there would silently invoke synchronously).
 */
function parseAsync(annotations: Readonly<Record<string, string>>, fallback: boolean): boolean | string {
  const own = present(annotations[ANNOTATION.async]);
  const value = own ?? present(annotations[ANNOTATION.goAsync]);
  if (value === undefined) return fallback;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  const found = JSON.stringify(value.slice(0, 64));
  if (own !== undefined) return `${ANNOTATION.async} must be true or false, found ${found}`;
  return `${ANNOTATION.goAsync} must be true or false, found ${found} (the Go cron-connector read any value but "true" as false)`;
}

function parseRetries(value: string | undefined, fallback: number): number | string {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim();
  const n = /^\d{1,2}$/.test(v) ? Number(v) : Number.NaN;
  if (Number.isInteger(n) && n >= 0 && n <= MAX_RETRIES) return n;
  return `${ANNOTATION.retries} must be a whole number from 0 to ${MAX_RETRIES}, found ${JSON.stringify(value.slice(0, 64))}`;
}

function parseConcurrency(value: string | undefined): { readonly concurrency: Concurrency } | { readonly problem: string } {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'allow') return { concurrency: 'allow' };
  if (v === 'forbid') return { concurrency: 'forbid' };
  return { problem: `${ANNOTATION.concurrency} must be allow or forbid, found ${JSON.stringify((value ?? '').slice(0, 64))}` };
}

export const MAX_TOPIC_HEADER = 1024;

/**
 * The topic annotation as an HTTP header value: trimmed, anything but tab and printable ASCII
 * percent-encoded (a YAML block scalar leaves a newline; unicode is allowed in annotations),
 * and bounded in length.
 */
export function topicHeader(annotation: string | undefined): string {
  const encoded = (annotation ?? '').trim().replace(/[^\t\x20-\x7e]/gu, (c) => encodeURIComponent(c));
  return encoded.length > MAX_TOPIC_HEADER ? encoded.slice(0, MAX_TOPIC_HEADER) : encoded;
}

/** FNV-1a: a stable, well-spread 32-bit hash, so each function keeps its own offset. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function parseJitter(value: string | undefined, id: string): number | string {
  if (value === undefined || value.trim() === '') return 0;
  const ms = parseDuration(value);
  if (ms === undefined || ms > MAX_JITTER_MS) {
    return `${ANNOTATION.jitter} must be a Go duration up to 1h such as 500ms or 30s, found ${JSON.stringify(value.slice(0, 64))}`;
  }
  return ms < 1 ? 0 : stableHash(id) % Math.floor(ms);
}

function parseCatchUp(value: string | undefined): CatchUp | { readonly problem: string } {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return DEFAULT_CATCH_UP;
  const policy = CATCH_UP_POLICIES.find((p) => p === v);
  return policy ?? { problem: `${ANNOTATION.catchup} must be all, latest or none, found ${JSON.stringify((value ?? '').slice(0, 64))}` };
}

function parseDeadline(value: string | undefined): number | undefined | { readonly problem: string } {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < MIN_DEADLINE_MS || ms > MAX_DEADLINE_MS) {
    const zero = ms === 0 ? ` (to run no missed slot, set ${ANNOTATION.catchup}=none)` : '';
    return { problem: `${ANNOTATION.deadline} must be a Go duration from 1s to 8760h such as 10m or 1h, found ${JSON.stringify(value.slice(0, 64))}${zero}` };
  }
  return ms;
}

/** The inputs that decide scheduling, as one string. */
export function signatureOf(fn: GatewayFunction, defaults: SelectionDefaults): string {
  const a = fn.annotations;
  const parts = [
    a[ANNOTATION.topic] ?? '',
    a[ANNOTATION.schedule] ?? '',
    a[ANNOTATION.timezone] ?? defaults.timezone,
    a[ANNOTATION.async] ?? String(defaults.async),
    a[ANNOTATION.retries] ?? String(defaults.retries),
    a[ANNOTATION.concurrency] ?? '',
    a[ANNOTATION.jitter] ?? '',
    a[ANNOTATION.catchup] ?? '',
    a[ANNOTATION.deadline] ?? '',
    a[ANNOTATION.goAsync] ?? '',
  ];
  // Joined with NUL (cheap); a value holding NUL itself falls back to JSON, which never contains
  // a raw NUL, so two different inputs never share a signature.
  return parts.some((p) => p.includes('\u0000')) ? JSON.stringify(parts) : parts.join('\u0000');
}

function reasonOrSchedules(fn: GatewayFunction, defaults: SelectionDefaults, timezone: string): CompiledSchedule[] | string {
  const raw = fn.annotations[ANNOTATION.schedule];
  if (raw === undefined || raw.trim() === '') {
    return `no "${ANNOTATION.schedule}" annotation: add e.g. schedule="*/5 * * * *"`;
  }
  if (!isValidTimezone(timezone)) {
    return `unknown time zone ${JSON.stringify(timezone.slice(0, 64))} in ${ANNOTATION.timezone}: use an IANA name such as Europe/London`;
  }
  const expressions = splitSchedules(raw);
  if (expressions.length === 0) return `the "${ANNOTATION.schedule}" annotation holds no expression`;
  if (expressions.length > MAX_SCHEDULES) return `more than ${MAX_SCHEDULES} schedules`;
  return compileAll(expressions, timezone);
}

/**
 * Decides what to do with one function. `previous` (the functions scheduled now) lets an
 * unchanged function be reused as it is, without compiling its expressions again.
 */
export function selectFunction(
  fn: GatewayFunction,
  defaults: SelectionDefaults,
  previous?: ReadonlyMap<string, DesiredFunction>,
): Selection {
  const topic = fn.annotations[ANNOTATION.topic];
  if (!hasTopic(topic, defaults.topic)) return { kind: 'ignored' };
  const id = functionId(fn.name, fn.namespace);
  const signature = signatureOf(fn, defaults);
  const existing = previous?.get(id);
  if (existing !== undefined && existing.signature === signature) return { kind: 'selected', fn: existing };
  const reject = (reason: string): Selection => ({ kind: 'rejected', id, namespace: fn.namespace, reason, signature });
  const timezone = fn.annotations[ANNOTATION.timezone]?.trim() || defaults.timezone;
  const async = parseAsync(fn.annotations, defaults.async);
  if (typeof async === 'string') return reject(async);
  const retries = parseRetries(fn.annotations[ANNOTATION.retries], defaults.retries);
  if (typeof retries === 'string') return reject(retries);
  const parsedConcurrency = parseConcurrency(fn.annotations[ANNOTATION.concurrency]);
  if ('problem' in parsedConcurrency) return reject(parsedConcurrency.problem);
  const { concurrency } = parsedConcurrency;
  const jitterOffsetMs = parseJitter(fn.annotations[ANNOTATION.jitter], id);
  if (typeof jitterOffsetMs === 'string') return reject(jitterOffsetMs);
  const catchup = parseCatchUp(fn.annotations[ANNOTATION.catchup]);
  if (typeof catchup !== 'string') return reject(catchup.problem);
  const deadlineMs = parseDeadline(fn.annotations[ANNOTATION.deadline]);
  if (typeof deadlineMs === 'object') return reject(deadlineMs.problem);
  const schedules = reasonOrSchedules(fn, defaults, timezone);
  if (typeof schedules === 'string') return reject(schedules);
  return {
    kind: 'selected',
    fn: { id, name: fn.name, namespace: fn.namespace, topic: topicHeader(topic), async, timezone, retries, concurrency, jitterOffsetMs, catchup, deadlineMs, schedules, signature },
  };
}
