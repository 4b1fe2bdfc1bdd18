/**
 * The bad-input corpus (test/support/corpus.ts) against the pure layers: annotation selection,
 * list parsing and invocation paths. test/integration/hardening.test.ts runs the same table
 * through the real process.
 */
import { describe, expect, it } from 'vitest';
import { invocationPath } from '../../src/gateway/client.ts';
import { parseFunctionList } from '../../src/gateway/types.ts';
import { selectFunction } from '../../src/schedule/annotations.ts';
import { EMPTY_STATE, desiredState, selectNamespace } from '../../src/schedule/desired.ts';
import {
  ANNOTATION_CASES,
  LIST_BODY_CASES,
  NAME_CASES,
  annotationCaseName,
  caseTitle,
  invocationPathOf,
  namesValue,
  reasonDetail,
  type AnnotationCase,
} from '../support/corpus.ts';
import { SYNC_PREFIX, parseFunctionRef } from '../support/gateway/invoke-endpoints.ts';

const defaults = { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 };
/** Longest reason worth printing: a reason quotes what it rejects, never all of it. */
const MAX_REASON = 400;

describe('the annotation corpus', () => {
  it('should hold at least 40 cases across every category, with unique labels', () => {
    expect(ANNOTATION_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ANNOTATION_CASES.map((c) => c.label)).size).toBe(ANNOTATION_CASES.length);
    expect(new Set(ANNOTATION_CASES.map((c) => c.category)).size).toBeGreaterThanOrEqual(10);
  });

  it.each(ANNOTATION_CASES.map((c, i) => [caseTitle(c), c, i] as const))('should %s', (_title, c: AnnotationCase, i) => {
    const selection = selectFunction({ name: annotationCaseName(i), namespace: 'corpus', annotations: c.annotations }, defaults);
    const expected = c.expect;
    if (expected.kind === 'ignored') {
      expect(selection.kind).toBe('ignored');
    } else if (expected.kind === 'rejected') {
      if (selection.kind !== 'rejected') throw new Error(`expected a rejection, got ${selection.kind}`);
      expect(selection.reason).toMatch(expected.reason);
      expect(selection.reason.length).toBeLessThanOrEqual(MAX_REASON);
      if (expected.names !== undefined) {
        expect(namesValue(reasonDetail(selection.reason), expected.names), `"${reasonDetail(selection.reason)}" should name ${expected.names}, the value written`).toBe(true);
      }
    } else {
      if (selection.kind !== 'selected') throw new Error(`expected a selection, got ${selection.kind}: ${selection.kind === 'rejected' ? selection.reason : ''}`);
      expect(selection.fn.schedules.map((s) => s.expression)).toEqual(expected.schedules);
      // the zone each schedule is computed in (the function's, or a CRON_TZ= prefix's), as the Added line shows it
      for (const s of selection.fn.schedules) expect(s.timezone).toBe(expected.timezone ?? 'UTC');
      expect(selection.fn.async).toBe(expected.async ?? false);
    }
  });
});

describe('the list body corpus', () => {
  const parsable = LIST_BODY_CASES.filter((c) => (c.status ?? 200) === 200);

  it.each(parsable.map((c) => [`${c.expect.kind === 'unreadable' ? 'refuse' : 'tolerate'} ${c.label}`, c] as const))('should %s', (_title, c) => {
    const parse = () => parseFunctionList(Buffer.from(c.body), 'ns', '/system/functions');
    if (c.expect.kind === 'unreadable') {
      expect(parse).toThrow(c.expect.error);
      return;
    }
    const state = desiredState([{ namespace: 'ns', kind: 'selected', selection: selectNamespace(parse(), EMPTY_STATE, defaults) }], EMPTY_STATE);
    const added = Object.fromEntries([...state.functions.values()].map((f) => [f.name, f.schedules.map((s) => s.expression)]));
    expect(added).toEqual(c.expect.added ?? {});
    const rejected = [...state.rejected.values()];
    expect(rejected.map((r) => r.id).sort()).toEqual(Object.keys(c.expect.rejected ?? {}).map((n) => `${n}.ns`).sort());
    for (const r of rejected) expect(r.reason).toMatch(c.expect.rejected?.[r.id.slice(0, -'.ns'.length)] ?? /^$/);
  });
});

describe('the name corpus', () => {
  it.each(NAME_CASES.map((c) => [c.label, c] as const))('should build the encoded invocation path for %s', (_label, c) => {
    expect(invocationPath(c.name, c.namespace, false)).toBe(invocationPathOf(c.name, c.namespace));
  });

  it.each(NAME_CASES.filter((c) => c.invocable).map((c) => [c.label, c] as const))('should address %s unambiguously', (_label, c) => {
    const url = new URL(`http://gateway${invocationPathOf(c.name, c.namespace)}`);
    expect(url.pathname).toBe(invocationPathOf(c.name, c.namespace));
    expect(parseFunctionRef(url.pathname, SYNC_PREFIX)).toEqual({ name: c.name, namespace: c.namespace });
  });

  it('should know that a namespace with a dot cannot be addressed as <name>.<namespace>', () => {
    for (const c of NAME_CASES.filter((n) => !n.invocable)) {
      expect(c.namespace).toContain('.');
      expect(parseFunctionRef(invocationPathOf(c.name, c.namespace), SYNC_PREFIX)).not.toEqual({ name: c.name, namespace: c.namespace });
    }
  });
});
