import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, backoffDelay, tokenTimes } from '../../src/auth/iam.ts';
import { decodeClaims } from '../../src/auth/token-file.ts';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('token lifetime', () => {
  it('should renew at 80% of the shorter of expires_in and the JWT exp', () => {
    expect(tokenTimes({ accessToken: 'x', expiresInMs: 100_000, expMs: now + 50_000, policies: [] }, now)).toEqual({
      obtainedAt: now,
      expiresAt: now + 50_000,
      renewAt: now + 40_000,
    });
    expect(tokenTimes({ accessToken: 'x', expiresInMs: 10_000, expMs: undefined, policies: [] }, now).renewAt).toBe(now + 8000);
  });

  it('should assume five minutes when the gateway says nothing', () => {
    expect(tokenTimes({ accessToken: 'x', expiresInMs: undefined, expMs: undefined, policies: [] }, now).expiresAt).toBe(now + 300_000);
  });
});

describe('exchange backoff', () => {
  it('should grow exponentially from 500 ms and stop at the cap', () => {
    const mid = (): number => 0.5;
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, mid))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(50, mid)).toBe(BACKOFF_CAP_MS);
  });

  it('should jitter within ±20%', () => {
    expect(backoffDelay(3, () => 0)).toBe(1600);
    expect(backoffDelay(3, () => 1)).toBe(2400);
  });
});

describe('token claims', () => {
  it('should decode claims without verifying and never fail on garbage', () => {
    const payload = Buffer.from(JSON.stringify({ iss: 'i', sub: 's', aud: 'a', exp: 10 })).toString('base64url');
    expect(decodeClaims(`e30.${payload}.sig`)).toEqual({ iss: 'i', sub: 's', aud: ['a'], expMs: 10_000 });
    expect(decodeClaims('not a jwt')).toEqual({});
  });
});
