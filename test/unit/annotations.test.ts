import { describe, expect, it } from 'vitest';
import type { GatewayFunction } from '../../src/gateway/types.ts';
import { hasTopic, selectFunction, splitSchedules, type Selection } from '../../src/schedule/annotations.ts';

const defaults = { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 };

function fn(annotations: Record<string, string>, name = 'nodeinfo', namespace = 'dev'): GatewayFunction {
  return { name, namespace, annotations };
}

function reason(s: Selection): string {
  if (s.kind !== 'rejected') throw new Error(`expected a rejection, got ${s.kind}`);
  return s.reason;
}

describe('topic annotation', () => {
  it('should match the configured topic inside a comma-separated list', () => {
    expect(hasTopic('cron-function', 'cron-function')).toBe(true);
    expect(hasTopic('kafka-topic, cron-function', 'cron-function')).toBe(true);
    expect(hasTopic('cron-functions', 'cron-function')).toBe(false);
    expect(hasTopic(undefined, 'cron-function')).toBe(false);
  });

  it('should ignore functions without the topic', () => {
    expect(selectFunction(fn({ schedule: '* * * * *' }), defaults).kind).toBe('ignored');
    expect(selectFunction(fn({ topic: 'other', schedule: '* * * * *' }), defaults).kind).toBe('ignored');
  });
});

describe('schedule annotation', () => {
  it('should split several expressions on ";" dropping blanks and repeats', () => {
    expect(splitSchedules(' */5 * * * *; * * * * 1,5 ;; */5  *  * * * ')).toEqual(['*/5 * * * *', '* * * * 1,5']);
  });

  it.each(['* * * * *', '*/10 * * * * *', '@hourly', '@daily', '@weekly', '@monthly', '@yearly', '0 9 * * MON-FRI', '@every 5s', '@every 1h30m', 'CRON_TZ=Asia/Tokyo 0 6 * * ?', 'TZ=UTC @daily', '5/15 * * * *'])(
    'should accept %j',
    (schedule) => {
      const s = selectFunction(fn({ topic: 'cron-function', schedule }), defaults);
      expect(s.kind).toBe('selected');
    },
  );

  it('should select with every schedule compiled, the id name.namespace and the raw topic', () => {
    const s = selectFunction(fn({ topic: 'a,cron-function', schedule: '*/5 * * * *; 0 0 * * *' }), defaults);
    if (s.kind !== 'selected') throw new Error('expected selected');
    expect(s.fn.id).toBe('nodeinfo.dev');
    expect(s.fn.topic).toBe('a,cron-function');
    expect(s.fn.schedules.map((x) => x.expression)).toEqual(['*/5 * * * *', '0 0 * * *']);
  });

  it.each([
    [{}, /no "schedule" annotation/],
    [{ schedule: '   ' }, /no "schedule" annotation/],
    [{ schedule: ';;' }, /holds no expression/],
    [{ schedule: '* * * *' }, /expected 5 fields .* found 4/],
    [{ schedule: '* * * * * * *' }, /found 7/],
    [{ schedule: '61 * * * *' }, /invalid schedule "61 \* \* \* \*"/],
    [{ schedule: '* * 32 * *' }, /invalid schedule/],
    [{ schedule: '@reboot' }, /unknown nickname/],
    [{ schedule: '@every 0.5s' }, /@every 0\.5s is shorter than 1s/],
    [{ schedule: '@every 90' }, /@every needs a Go duration .* found "90"/],
    [{ schedule: 'CRON_TZ=Mars/Olympus 0 6 * * *' }, /invalid schedule "CRON_TZ=Mars\/Olympus 0 6 \* \* \*": unknown time zone "Mars\/Olympus" in CRON_TZ=/],
    [{ schedule: 'TZ=UTC TZ=UTC 0 6 * * *' }, /only one CRON_TZ= or TZ= prefix/],
    [{ schedule: 'cron_tz=UTC 0 6 * * *' }, /unknown prefix "cron_tz="/],
    [{ schedule: '* * * * *', async: 'yes' }, /^async must be true or false, found "yes"/],
    [{ schedule: 'every minute please' }, /expected 5 fields/],
    [{ schedule: '* * * * *; nope' }, /invalid schedule "nope"/],
    [{ schedule: '* * * * *\u0007' }, /control characters/],
    [{ schedule: '0 0 30 2 *' }, /never fires/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.timezone': 'Mars/Olympus' }, /unknown time zone "Mars\/Olympus"/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.async': 'sometimes' }, /must be true or false/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.retries': '11' }, /retries must be a whole number from 0 to 10/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.retries': '-1' }, /retries must be a whole number/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.retries': 'three' }, /retries must be a whole number/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.concurrency': 'replace' }, /concurrency must be allow or forbid/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.jitter': '2h' }, /jitter must be a Go duration up to 1h/],
    [{ schedule: '* * * * *', 'com.openfaas.cron.jitter': 'soon' }, /jitter must be a Go duration/],
  ])('should reject %j with a reason', (annotations, expected) => {
    expect(reason(selectFunction(fn({ topic: 'cron-function', ...annotations }), defaults))).toMatch(expected);
  });

  it('should reject an expression of 10,000 characters without trying to parse it', () => {
    expect(reason(selectFunction(fn({ topic: 'cron-function', schedule: '1,'.repeat(5000) }), defaults))).toMatch(/longer than/);
  });
});

describe('topic header', () => {
  it('should trim the annotation and percent-encode what is not a valid header character', async () => {
    const { topicHeader } = await import('../../src/schedule/annotations.ts');
    expect(topicHeader('cron-function\n')).toBe('cron-function');
    expect(topicHeader('kafka, cron-function')).toBe('kafka, cron-function');
    expect(topicHeader('cron-function,⏰')).toBe('cron-function,%E2%8F%B0');
    expect(topicHeader('a\rb')).toBe('a%0Db');
    expect(topicHeader('x'.repeat(5000))).toHaveLength(1024);
  });
});

describe('per-function overrides', () => {
  it('should take the zone and async flag from the annotations', () => {
    const s = selectFunction(
      fn({ topic: 'cron-function', schedule: '0 9 * * *', 'com.openfaas.cron.timezone': 'Europe/London', 'com.openfaas.cron.async': 'true' }),
      defaults,
    );
    if (s.kind !== 'selected') throw new Error('expected selected');
    expect(s.fn.timezone).toBe('Europe/London');
    expect(s.fn.async).toBe(true);
    expect(s.fn.schedules[0]?.timezone).toBe('Europe/London');
  });

  it('should read retries and concurrency, defaulting to the global retries and allow', () => {
    const set = selectFunction(
      fn({ topic: 'cron-function', schedule: '* * * * *', 'com.openfaas.cron.retries': '0', 'com.openfaas.cron.concurrency': 'Forbid' }),
      defaults,
    );
    const unset = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *' }), defaults);
    if (set.kind !== 'selected' || unset.kind !== 'selected') throw new Error('expected selected');
    expect([set.fn.retries, set.fn.concurrency, unset.fn.retries, unset.fn.concurrency]).toEqual([0, 'forbid', 2, 'allow']);
  });

  it('should give each function its own stable jitter offset within the window', () => {
    const offsets = ['a', 'b', 'c', 'd'].map((name) => {
      const s = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *', 'com.openfaas.cron.jitter': '30s' }, name), defaults);
      if (s.kind !== 'selected') throw new Error('expected selected');
      return s.fn.jitterOffsetMs;
    });
    for (const o of offsets) expect(o).toBeGreaterThanOrEqual(0);
    for (const o of offsets) expect(o).toBeLessThan(30_000);
    expect(new Set(offsets).size).toBe(4);
    const again = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *', 'com.openfaas.cron.jitter': '30s' }, 'a'), defaults);
    expect(again.kind === 'selected' && again.fn.jitterOffsetMs).toBe(offsets[0]);
    const off = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *' }), defaults);
    expect(off.kind === 'selected' && off.fn.jitterOffsetMs).toBe(0);
  });

  it('should read the Go connector\'s async annotation, case-insensitively, with com.openfaas.cron.async winning', () => {
    const asyncOf = (annotations: Record<string, string>, fallback = false): boolean | string => {
      const s = selectFunction(fn({ topic: 'cron-function', schedule: '0 9 * * *', ...annotations }), { ...defaults, async: fallback });
      return s.kind === 'selected' ? s.fn.async : s.kind === 'rejected' ? s.reason : 'ignored';
    };
    expect([asyncOf({ async: 'true' }), asyncOf({ async: 'TRUE' }), asyncOf({ async: '1' }), asyncOf({ async: ' True ' })]).toEqual([true, true, true, true]);
    expect([asyncOf({ async: 'false' }, true), asyncOf({ async: 'False' }, true), asyncOf({ async: '0' }, true)]).toEqual([false, false, false]);
    expect([asyncOf({}, true), asyncOf({ async: '' }, true), asyncOf({ async: '  ' })]).toEqual([true, true, false]);
    // com.openfaas.cron.async wins; the other is then not read at all
    expect(asyncOf({ async: 'true', 'com.openfaas.cron.async': 'false' })).toBe(false);
    expect(asyncOf({ async: 'false', 'com.openfaas.cron.async': 'true' })).toBe(true);
    expect(asyncOf({ async: 'yes', 'com.openfaas.cron.async': 'true' })).toBe(true);
    expect(asyncOf({ async: 'true', 'com.openfaas.cron.async': ' ' })).toBe(true);
    expect(asyncOf({ async: 'on' })).toBe('async must be true or false, found "on" (the Go cron-connector read any value but "true" as false)');
    expect(asyncOf({ async: 'true', 'com.openfaas.cron.async': 'on' })).toBe('com.openfaas.cron.async must be true or false, found "on"');
  });

  it('should select again when the async annotation changes', () => {
    const first = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *' }), defaults);
    if (first.kind !== 'selected') throw new Error('expected selected');
    const previous = new Map([[first.fn.id, first.fn]]);
    const changed = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *', async: 'true' }), defaults, previous);
    if (changed.kind !== 'selected') throw new Error('expected selected');
    expect(changed.fn).not.toBe(first.fn);
    expect(changed.fn.async).toBe(true);
    expect(changed.fn.signature).not.toBe(first.fn.signature);
  });

  it('should evaluate each expression in its CRON_TZ= zone, the others in the function zone', () => {
    const s = selectFunction(
      fn({ topic: 'cron-function', schedule: 'CRON_TZ=Asia/Tokyo 0 6 * * ?; 0 6 * * *; TZ=UTC @daily; @every 90s', 'com.openfaas.cron.timezone': 'Europe/London' }),
      defaults,
    );
    if (s.kind !== 'selected') throw new Error(s.kind === 'rejected' ? s.reason : 'ignored');
    expect(s.fn.timezone).toBe('Europe/London');
    expect(s.fn.schedules.map((x) => [x.expression, x.timezone, x.key])).toEqual([
      ['CRON_TZ=Asia/Tokyo 0 6 * * ?', 'Asia/Tokyo', 'Asia/Tokyo|0 6 * * ?'],
      ['0 6 * * *', 'Europe/London', 'Europe/London|0 6 * * *'],
      ['TZ=UTC @daily', 'UTC', 'UTC|@daily'],
      ['@every 90s', 'UTC', 'UTC|@every 90s'],
    ]);
  });

  it('should keep one of two spellings of the same schedule', () => {
    const s = selectFunction(fn({ topic: 'cron-function', schedule: '@every 90s; @every 1m30s; CRON_TZ=UTC 0 6 * * *; 0 6 * * *' }), defaults);
    if (s.kind !== 'selected') throw new Error('expected selected');
    expect(s.fn.schedules.map((x) => x.expression)).toEqual(['@every 90s', 'CRON_TZ=UTC 0 6 * * *']);
  });

  it('should fall back to the global defaults', () => {
    const s = selectFunction(fn({ topic: 'cron-function', schedule: '0 9 * * *' }), { ...defaults, async: true, timezone: 'Asia/Tokyo', retries: 2 });
    if (s.kind !== 'selected') throw new Error('expected selected');
    expect([s.fn.timezone, s.fn.async]).toEqual(['Asia/Tokyo', true]);
  });

  it('should reuse the previous object when nothing that matters changed', () => {
    const first = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *' }), defaults);
    if (first.kind !== 'selected') throw new Error('expected selected');
    const again = selectFunction(fn({ topic: 'cron-function', schedule: '* * * * *', other: 'x' }), defaults, new Map([[first.fn.id, first.fn]]));
    expect(again.kind === 'selected' && again.fn).toBe(first.fn);
  });
});
