import { describe, expect, it } from 'vitest';
import { RETRY_AFTER_CAP_MS, RETRY_CAP_MS, executionId, isRetryableError, parseRetryAfter, retryDelay } from '../../src/delivery.ts';
import { GatewayError } from '../../src/errors.ts';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('delivery policy', () => {
  it('should back off exponentially with equal jitter and a cap', () => {
    expect([1, 2, 3].map((a) => retryDelay(a, undefined, () => 0))).toEqual([250, 500, 1000]);
    expect([1, 2, 3].map((a) => retryDelay(a, undefined, () => 1))).toEqual([500, 1000, 2000]);
    expect(retryDelay(40, undefined, () => 1)).toBe(RETRY_CAP_MS);
  });

  it('should wait at least as long as Retry-After asks', () => {
    expect(retryDelay(1, 7000, () => 1)).toBe(7000);
    expect(retryDelay(5, 10, () => 1)).toBe(8000);
  });

  it('should read Retry-After as seconds or an HTTP date, capped', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(new Date(now + 4000).toUTCString(), now)).toBe(4000);
    expect(parseRetryAfter('999999', now)).toBe(RETRY_AFTER_CAP_MS);
    expect(parseRetryAfter(['2', '5'], now)).toBe(2000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('should retry network errors but not timeouts or HTTP errors', () => {
    expect(isRetryableError(new GatewayError('E_GATEWAY_NETWORK', 'reset', { path: '/f' }))).toBe(true);
    expect(isRetryableError(new GatewayError('E_GATEWAY_TIMEOUT', 'slow', { path: '/f' }))).toBe(false);
    expect(isRetryableError(new Error('x'))).toBe(false);
  });

  it('should derive a stable execution id per function and slot', () => {
    const a = executionId('f.dev', '* * * * *', now);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(executionId('f.dev', '* * * * *', now)).toBe(a);
    expect(executionId('f.dev', '* * * * *', now + 60_000)).not.toBe(a);
    expect(executionId('g.dev', '* * * * *', now)).not.toBe(a);
  });
});
