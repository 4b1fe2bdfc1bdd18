/**
 * Delivery policy, pure: which failures are retried, how long to wait, and the stable
 * execution id every attempt of one slot carries (docs/adr/0004).
 */
import { hash } from 'node:crypto';
import { GatewayError } from './errors.ts';

/** Statuses that mean the call did not reach a function able to answer: safe to try again. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);
export const RETRY_BASE_MS = 500;
export const RETRY_CAP_MS = 30_000;
/** Longest Retry-After honoured; longer answers are capped. */
export const RETRY_AFTER_CAP_MS = 5 * 60_000;

export function isRetryableError(err: unknown): boolean {
  // A timeout is not retried: the function may still be running and a retry could run it twice.
  return err instanceof GatewayError && err.code === 'E_GATEWAY_NETWORK';
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, RETRY_AFTER_CAP_MS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), RETRY_AFTER_CAP_MS);
}

/**
 * Exponential backoff with "equal jitter" (half fixed, half random), for retry `attempt` (1 = the
 * first retry). A Retry-After from the server wins when it asks for longer.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const exp = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 20));
  const jittered = Math.round(exp / 2 + (exp / 2) * random());
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}

/**
 * The same for every attempt of one slot of one function, different across slots and functions,
 * and the same after a restart: functions can use it to drop duplicates.
 */
export function executionId(functionId: string, schedule: string, nominal: number): string {
  const hex = hash('sha256', `${functionId}\n${schedule}\n${nominal}`, 'hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
