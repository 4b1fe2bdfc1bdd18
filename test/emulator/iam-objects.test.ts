import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { parseGoDuration } from '../support/gateway/go-duration.ts';

describe('IAM object validation', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway();
  });
  afterEach(() => gateway.close());

  it('parses Go durations for tokenExpiry', () => {
    expect(parseGoDuration('2h')).toBe(7_200_000);
    expect(parseGoDuration('5s')).toBe(5_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('300ms')).toBe(300);
    expect(parseGoDuration('0')).toBe(0);
  });

  it('rejects what Go would reject', () => {
    for (const text of ['', '2', 'h', '2 h', '2d', '1h-5m', 'abc']) {
      expect(() => parseGoDuration(text), text).toThrow(/invalid duration/);
    }
  });

  it('refuses JwtIssuers with an unusable spec', () => {
    const jwks = { keys: [] };
    expect(() => gateway.addJwtIssuer('k', { iss: '', aud: ['x'], jwks })).toThrow(/iss must be a non-empty string/);
    expect(() => gateway.addJwtIssuer('k', { iss: 'https://k', aud: [], jwks })).toThrow(/aud must be a non-empty array/);
    expect(() => gateway.addJwtIssuer('k', { iss: 'https://k', aud: ['x'], tokenExpiry: '2 hours', jwks })).toThrow(/invalid duration/);
    expect(() => gateway.addJwtIssuer('k', { iss: 'https://k', aud: ['x'], tokenExpiry: '500ms', jwks })).toThrow(/at least 1s/);
  });

  it('refuses Policies without statements, actions or resources', () => {
    expect(() => gateway.setPolicy('p', { statement: [] })).toThrow(/statement must be a non-empty array/);
    expect(() => gateway.setPolicy('p', { statement: [{ sid: '1', effect: 'Allow', action: [], resource: ['*'] }] })).toThrow(/action/);
    expect(() => gateway.setPolicy('p', { statement: [{ sid: '1', effect: 'Allow', action: ['*'], resource: [] }] })).toThrow(/resource/);
  });

  it('refuses non-positive token lifetimes', () => {
    expect(() => gateway.setTokenLifetime(0)).toThrow(/positive whole number/);
    expect(() => gateway.setTokenLifetime(1.5)).toThrow(/positive whole number/);
  });
});
