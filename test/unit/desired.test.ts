import { describe, expect, it } from 'vitest';
import type { GatewayFunction } from '../../src/gateway/types.ts';
import { EMPTY_STATE, desiredState, planChanges, selectNamespace, type DesiredState, type NamespaceOutcome } from '../../src/schedule/desired.ts';

const defaults = { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 };

function cron(name: string, namespace: string, schedule: string, extra: Record<string, string> = {}): GatewayFunction {
  return { name, namespace, annotations: { topic: 'cron-function', schedule, ...extra } };
}

/** A namespace that answered with these functions; selected in pass() as the Reconciler does. */
interface Listed {
  readonly namespace: string;
  readonly kind: 'listed';
  readonly functions: readonly GatewayFunction[];
}

function listed(namespace: string, ...functions: GatewayFunction[]): Listed {
  return { namespace, kind: 'listed', functions };
}

function pass(previous: DesiredState, ...outcomes: Array<NamespaceOutcome | Listed>): DesiredState {
  const selected = outcomes.map((o): NamespaceOutcome =>
    o.kind === 'listed' ? { namespace: o.namespace, kind: 'selected', selection: selectNamespace(o.functions, previous, defaults) } : o,
  );
  return desiredState(selected, previous);
}

function summary(prev: DesiredState, next: DesiredState): { add: string[]; remove: string[]; update: string[] } {
  const plan = planChanges(prev.functions, next.functions);
  const flat = (cs: typeof plan.add): string[] => cs.flatMap((c) => c.schedules.map((s) => `${c.fn.id} ${s.expression}`));
  return { add: flat(plan.add), remove: flat(plan.remove), update: plan.update.map((f) => f.id) };
}

describe('desired state and diff', () => {
  const first = pass(EMPTY_STATE, listed('dev', cron('a', 'dev', '* * * * *'), cron('b', 'dev', '0 * * * *; 30 * * * *')));

  it('should add every schedule of new functions', () => {
    expect(summary(EMPTY_STATE, first)).toEqual({ add: ['a.dev * * * * *', 'b.dev 0 * * * *', 'b.dev 30 * * * *'], remove: [], update: [] });
  });

  it('should leave unchanged functions untouched, reusing the same objects', () => {
    const again = pass(first, listed('dev', cron('a', 'dev', '* * * * *'), cron('b', 'dev', '0 * * * *; 30 * * * *')));
    expect(summary(first, again)).toEqual({ add: [], remove: [], update: [] });
    expect(again.functions.get('a.dev')).toBe(first.functions.get('a.dev'));
  });

  it('should replace only the schedules that changed', () => {
    const changed = pass(first, listed('dev', cron('a', 'dev', '* * * * *'), cron('b', 'dev', '0 * * * *; 45 * * * *')));
    expect(summary(first, changed)).toEqual({ add: ['b.dev 45 * * * *'], remove: ['b.dev 30 * * * *'], update: ['b.dev'] });
  });

  it('should update invocation settings without touching timers', () => {
    const changed = pass(first, listed('dev', cron('a', 'dev', '* * * * *', { 'com.openfaas.cron.async': 'true' }), cron('b', 'dev', '0 * * * *; 30 * * * *')));
    expect(summary(first, changed)).toEqual({ add: [], remove: [], update: ['a.dev'] });
    expect(changed.functions.get('a.dev')?.async).toBe(true);
  });

  it('should replace every schedule when the zone changes', () => {
    const changed = pass(first, listed('dev', cron('a', 'dev', '* * * * *', { 'com.openfaas.cron.timezone': 'Asia/Tokyo' }), cron('b', 'dev', '0 * * * *; 30 * * * *')));
    expect(summary(first, changed)).toEqual({ add: ['a.dev * * * * *'], remove: ['a.dev * * * * *'], update: ['a.dev'] });
  });

  it('should remove deleted and un-annotated functions', () => {
    const gone = pass(first, listed('dev', { name: 'a', namespace: 'dev', annotations: { schedule: '* * * * *' } }));
    expect(summary(first, gone).remove).toEqual(['a.dev * * * * *', 'b.dev 0 * * * *', 'b.dev 30 * * * *']);
  });

  it('should remove every function of a namespace that left the list or answered 403/404', () => {
    const two = pass(EMPTY_STATE, listed('dev', cron('a', 'dev', '* * * * *')), listed('prod', cron('p', 'prod', '* * * * *')));
    expect(summary(two, pass(two, listed('dev', cron('a', 'dev', '* * * * *')))).remove).toEqual(['p.prod * * * * *']);
    expect(
      summary(two, pass(two, listed('dev', cron('a', 'dev', '* * * * *')), { namespace: 'prod', kind: 'gone', reason: 'forbidden (403)' })).remove,
    ).toEqual(['p.prod * * * * *']);
  });

  it('should keep the schedules of a namespace that could not be read', () => {
    const two = pass(EMPTY_STATE, listed('dev', cron('a', 'dev', '* * * * *')), listed('prod', cron('p', 'prod', '* * * * *')));
    const failed = pass(two, listed('dev'), { namespace: 'prod', kind: 'failed', error: '503' });
    expect(summary(two, failed)).toEqual({ add: [], remove: ['a.dev * * * * *'], update: [] });
    expect(failed.functions.get('p.prod')).toBe(two.functions.get('p.prod'));
  });

  it('should record rejections apart and schedule the rest of the namespace', () => {
    const state = pass(EMPTY_STATE, listed('dev', cron('a', 'dev', '* * * * *'), cron('bad', 'dev', 'nope')));
    expect([...state.functions.keys()]).toEqual(['a.dev']);
    expect(state.rejected.get('bad.dev')?.reason).toMatch(/invalid schedule "nope"/);
  });

  it('should keep functions of the same name in different namespaces apart', () => {
    const state = pass(EMPTY_STATE, listed('dev', cron('f', 'dev', '* * * * *')), listed('prod', cron('f', 'prod', '0 * * * *')));
    expect([...state.functions.keys()].sort()).toEqual(['f.dev', 'f.prod']);
  });
});
