/**
 * The Reconciler in-process: one discovery pass at a time against a gateway fake that answers
 * with listings as JSON bytes, applied to a real Scheduler on a ManualClock, with a real pino
 * logger in memory and a recording MetricsSink.
 */
import { GatewayError } from '../../src/errors.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Reconciler, entryKey } from '../../src/reconcile.ts';
import type { DesiredFunction, SelectionDefaults } from '../../src/schedule/annotations.ts';
import { Scheduler, type FireEvent } from '../../src/schedule/scheduler.ts';
import { deferred, flushMicrotasks, isSettled, type Deferred } from '../helpers/async.ts';
import { FakeDiscoveryClient, cronFn, networkError, statusError, type DiscoveryCall, type ListedFunction } from '../helpers/fake-discovery-client.ts';
import { captureLogs, type LogEntry } from '../helpers/logs.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { RecordingMetrics } from '../helpers/recording-metrics.ts';

/** Monday 2026-11-23, 13:42 UTC. */
const T0 = Date.parse('2026-11-23T13:42:00.000Z');
const DEFAULTS: SelectionDefaults = { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 };
const YEARLY = '0 0 1 1 *';
const NEXT_YEARLY = '2027-01-01T00:00:00.000Z';

function setup(opts: { concurrency?: number; rebuildTimeoutMs?: number } = {}) {
  const clock = new ManualClock(T0);
  const client = new FakeDiscoveryClient();
  const logs = captureLogs();
  const metrics = new RecordingMetrics();
  const fired: Array<FireEvent<DesiredFunction>> = [];
  const scheduler = new Scheduler<DesiredFunction>({ clock, onFire: (e) => fired.push(e) });
  const reconciler = new Reconciler({
    client,
    scheduler,
    clock,
    logger: logs.logger,
    metrics,
    defaults: DEFAULTS,
    rebuildTimeoutMs: opts.rebuildTimeoutMs ?? 10_000,
    ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
  });
  /** Runs one pass; returns its summary and the lines it logged. */
  const pass = async (signal?: AbortSignal) => {
    const from = s.logs.entries.length;
    const calls = s.client.calls.length;
    const metricCalls = s.metrics.calls.length;
    const summary = await reconciler.pass(signal);
    return { summary, lines: s.logs.entries.slice(from), calls: s.client.calls.slice(calls), metrics: s.metrics.calls.slice(metricCalls) };
  };
  /** Whether `fn`'s schedule `expression` is in the scheduler, and its next fire time. */
  const nextFire = (id: string, expression: string): number | undefined => {
    const fn = reconciler.current.functions.get(id);
    const schedule = fn?.schedules.find((c) => c.expression === expression);
    return fn === undefined || schedule === undefined ? undefined : scheduler.nextFire(entryKey(fn, schedule));
  };
  const s = { clock, client, logs, metrics, scheduler, reconciler, fired, pass, nextFire };
  return s;
}

/** Log lines as [level, msg, the named field's value]. */
const brief = (lines: readonly LogEntry[], field = 'function'): unknown[][] => lines.map((l) => [l.level, l.msg, l[field]]);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Reconciler: one pass', () => {
  it('should list the namespaces, then each namespace\'s functions, and schedule the selected ones', async () => {
    const s = setup();
    s.client.namespaces = ['dev', 'prod'];
    s.client.setFunctions('dev', [cronFn('nodeinfo', '*/5 * * * *'), { name: 'plain', annotations: { topic: 'other' } }]);
    s.client.setFunctions('prod', [cronFn('report', '0 9 * * MON-FRI', { 'com.openfaas.cron.timezone': 'Europe/London', 'com.openfaas.cron.async': 'true' })]);
    const { summary, lines, calls, metrics } = await s.pass();
    expect(calls).toEqual<DiscoveryCall[]>([
      { kind: 'namespaces', timeoutMs: 10_000 },
      { kind: 'functions', namespace: 'dev', timeoutMs: 10_000 },
      { kind: 'functions', namespace: 'prod', timeoutMs: 10_000 },
    ]);
    expect(summary).toEqual({ ok: true, namespaces: 2, functions: 2, schedules: 2, added: 2, removed: 0 });
    expect(lines).toEqual([
      { level: 'info', msg: 'Added', function: 'nodeinfo.dev', schedule: '*/5 * * * *', next: '2026-11-23T13:45:00.000Z' },
      {
        level: 'info',
        msg: 'Added',
        function: 'report.prod',
        schedule: '0 9 * * MON-FRI',
        next: '2026-11-24T09:00:00.000Z',
        timezone: 'Europe/London',
        async: true,
      },
      { level: 'info', msg: 'Discovery complete', namespaces: 2, functions: 2, schedules: 2, added: 2, removed: 0, rejected: 0, duration: '0ms' },
    ]);
    expect(metrics).toEqual([
      ['rebuild', 'success'],
      ['scheduledFunctions', 2],
    ]);
    expect(s.reconciler.lastSuccessAt).toBe(T0);
    expect(s.nextFire('nodeinfo.dev', '*/5 * * * *')).toBe(T0 + 3 * 60_000);
    s.scheduler.start();
    s.clock.advance(3 * 60_000);
    expect(s.fired.map((e) => [e.payload.id, new Date(e.nominal).toISOString()])).toEqual([['nodeinfo.dev', '2026-11-23T13:45:00.000Z']]);
  });

  it('should log Discovery complete at info for the first pass only', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY)]);
    await s.pass();
    s.clock.advance(30_000);
    const { summary, lines } = await s.pass();
    expect(summary).toEqual({ ok: true, namespaces: 1, functions: 1, schedules: 1, added: 0, removed: 0 });
    expect(lines).toEqual([
      { level: 'debug', msg: 'Discovery complete', namespaces: 1, functions: 1, schedules: 1, added: 0, removed: 0, rejected: 0, duration: '0ms' },
    ]);
    expect(s.reconciler.lastSuccessAt).toBe(T0 + 30_000);
  });

  it('should give each listing what is left of rebuild_timeout, and report how long the pass took', async () => {
    const s = setup({ rebuildTimeoutMs: 10_000 });
    s.client.namespaces = ['dev', 'prod'];
    s.client.setFunctions('dev', []);
    s.client.setFunctions('prod', []);
    const namespaces = deferred<undefined>();
    s.client.gate = (call) => (call.kind === 'namespaces' ? namespaces.promise : Promise.resolve());
    const passing = s.pass();
    s.clock.advance(3000);
    namespaces.resolve(undefined);
    const { calls, lines } = await passing;
    expect(calls.map((c) => c.timeoutMs)).toEqual([10_000, 7000, 7000]);
    expect(lines.at(-1)).toMatchObject({ msg: 'Discovery complete', duration: '3s' });

    // past the deadline, a listing still gets 1 ms rather than none
    const late = deferred<undefined>();
    s.client.gate = (call) => (call.kind === 'namespaces' ? late.promise : Promise.resolve());
    const again = s.pass();
    s.clock.advance(12_000);
    late.resolve(undefined);
    expect((await again).calls.map((c) => c.timeoutMs)).toEqual([10_000, 1, 1]);
  });

  it('should list at most `concurrency` namespaces at once', async () => {
    const s = setup({ concurrency: 2 });
    s.client.namespaces = ['a', 'b', 'c', 'd'];
    const held = new Map<string, Deferred<undefined>>();
    for (const ns of s.client.namespaces) {
      s.client.setFunctions(ns, []);
      held.set(ns, deferred());
    }
    s.client.gate = (call) => (call.kind === 'functions' ? (held.get(call.namespace)?.promise ?? Promise.resolve()) : Promise.resolve());
    const listed = (): string[] => s.client.calls.flatMap((c) => (c.kind === 'functions' ? [c.namespace] : []));
    const passing = s.pass();
    await flushMicrotasks();
    expect(listed()).toEqual(['a', 'b']);
    held.get('b')?.resolve(undefined);
    await flushMicrotasks();
    expect(listed()).toEqual(['a', 'b', 'c']);
    held.get('a')?.resolve(undefined);
    await flushMicrotasks();
    expect(listed()).toEqual(['a', 'b', 'c', 'd']);
    expect(await isSettled(passing)).toBe(false);
    held.get('c')?.resolve(undefined);
    held.get('d')?.resolve(undefined);
    expect((await passing).summary).toMatchObject({ ok: true, namespaces: 4 });
  });
});

describe('Reconciler: namespaces that answer 403 or 404', () => {
  it('should unschedule them and log the skip once per change of reason', async () => {
    const s = setup();
    s.client.namespaces = ['dev', 'prod'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY)]);
    s.client.setFunctions('prod', [cronFn('b', YEARLY)]);
    await s.pass();
    const path = '/system/functions?namespace=prod';

    s.client.failFunctions('prod', statusError(path, 403, 'forbidden'));
    const forbidden = await s.pass();
    expect(forbidden.summary).toEqual({ ok: true, namespaces: 2, functions: 1, schedules: 1, added: 0, removed: 1 });
    expect(brief(forbidden.lines)).toEqual([
      ['info', 'Namespace skipped', undefined],
      ['info', 'Removed', 'b.prod'],
      ['debug', 'Discovery complete', undefined],
    ]);
    expect(forbidden.lines[0]).toMatchObject({ namespace: 'prod', reason: 'forbidden (403)' });
    expect(forbidden.lines[1]).toEqual({ level: 'info', msg: 'Removed', function: 'b.prod', schedule: YEARLY, reason: 'namespace forbidden (403)' });
    expect(s.nextFire('b.prod', YEARLY)).toBeUndefined();
    expect(s.scheduler.size).toBe(1);

    // the same answer again: nothing to say
    expect(brief((await s.pass()).lines)).toEqual([['debug', 'Discovery complete', undefined]]);

    s.client.failFunctions('prod', statusError(path, 404, 'namespace not found'));
    const notFound = await s.pass();
    expect(brief(notFound.lines, 'reason')).toEqual([
      ['info', 'Namespace skipped', 'not found (404)'],
      ['debug', 'Discovery complete', undefined],
    ]);

    s.client.setFunctions('prod', [cronFn('b', YEARLY)]);
    expect(brief((await s.pass()).lines)).toEqual([
      ['info', 'Added', 'b.prod'],
      ['debug', 'Discovery complete', undefined],
    ]);

    s.client.failFunctions('prod', statusError(path, 403, 'forbidden'));
    expect(brief((await s.pass()).lines, 'reason')).toEqual([
      ['info', 'Namespace skipped', 'forbidden (403)'],
      ['info', 'Removed', 'namespace forbidden (403)'],
      ['debug', 'Discovery complete', undefined],
    ]);
  });

  it('should unschedule the functions of a namespace no longer listed, without asking for it', async () => {
    const s = setup();
    s.client.namespaces = ['dev', 'prod'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY)]);
    s.client.setFunctions('prod', [cronFn('b', YEARLY)]);
    await s.pass();
    s.client.namespaces = ['dev'];
    const { lines, calls, summary } = await s.pass();
    expect(calls.map((c) => (c.kind === 'functions' ? c.namespace : c.kind))).toEqual(['namespaces', 'dev']);
    expect(lines[0]).toEqual({ level: 'info', msg: 'Removed', function: 'b.prod', schedule: YEARLY, reason: 'namespace no longer listed' });
    expect(summary).toMatchObject({ functions: 1, schedules: 1, removed: 1 });
  });
});

describe('Reconciler: passes that cannot read everything', () => {
  it('should report a namespace that keeps failing when it starts, every 10th pass and when its error changes, then when it is back', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY)]);
    await s.pass();
    s.client.failFunctions('dev', statusError('/system/functions?namespace=dev', 500, 'boom'));
    const levels: string[] = [];
    for (let i = 1; i <= 21; i++) {
      const line = (await s.pass()).lines.find((l) => l.msg === 'Namespace unreadable, keeping its schedules');
      expect(line).toMatchObject({ namespace: 'dev', failedPasses: i, keptFunctions: 1 });
      levels.push(String(line?.level));
    }
    const warned = levels.flatMap((level, i) => (level === 'warn' ? [i + 1] : []));
    expect(warned).toEqual([1, 10, 20]);
    s.client.failFunctions('dev', networkError('/system/functions?namespace=dev'));
    expect((await s.pass()).lines[0]).toMatchObject({ level: 'warn', msg: 'Namespace unreadable, keeping its schedules', failedPasses: 1 });
    // a timeout's message says how long was left of the pass, different every pass: still the same failure
    for (const [i, left] of ['9.993s', '9.987s', '9.99s'].entries()) {
      s.client.failFunctions('dev', new GatewayError('E_GATEWAY_TIMEOUT', `GET /system/functions timed out after ${left}`, { path: '/system/functions' }));
      expect((await s.pass()).lines[0]).toMatchObject({ level: i === 0 ? 'warn' : 'debug', failedPasses: i + 1, error: `GET /system/functions timed out after ${left}` });
    }
    s.client.setFunctions('dev', [cronFn('a', YEARLY)]);
    expect((await s.pass()).lines[0]).toEqual({ level: 'info', msg: 'Namespace readable again', namespace: 'dev', failedPasses: 3 });
    expect((await s.pass()).lines.map((l) => l.msg)).toEqual(['Discovery complete']);
  });

  it('should keep the schedules of a namespace that fails, untouched, and say how many it kept', async () => {
    const s = setup();
    s.client.namespaces = ['dev', 'prod'];
    s.client.setFunctions('dev', [cronFn('a', '*/5 * * * *'), cronFn('b', YEARLY), cronFn('typo', '*/5 * * *')]);
    s.client.setFunctions('prod', [cronFn('c', YEARLY)]);
    await s.pass();
    const a = s.reconciler.current.functions.get('a.dev');
    const aNext = s.nextFire('a.dev', '*/5 * * * *');

    s.client.failFunctions('dev', statusError('/system/functions?namespace=dev', 500, 'boom'));
    const failed = await s.pass();
    expect(failed.lines).toMatchObject([
      {
        level: 'warn',
        msg: 'Namespace unreadable, keeping its schedules',
        namespace: 'dev',
        error: 'GET /system/functions?namespace=dev answered 500: boom',
        keptFunctions: 2,
      },
      { level: 'debug', msg: 'Discovery complete', namespaces: 2, functions: 3, schedules: 3, added: 0, removed: 0, rejected: 1, duration: '0ms' },
    ]);
    expect(failed.summary).toEqual({ ok: true, namespaces: 2, functions: 3, schedules: 3, added: 0, removed: 0 });
    expect(failed.metrics).toEqual([
      ['rebuild', 'success'],
      ['scheduledFunctions', 3],
    ]);
    expect(s.reconciler.current.functions.get('a.dev')).toBe(a);
    expect(s.nextFire('a.dev', '*/5 * * * *')).toBe(aNext);
    expect(s.reconciler.current.rejected.has('typo.dev')).toBe(true);

    // readable again, without b: only b goes, and the rejected function is not reported again
    s.client.failFunctions('dev', networkError('/system/functions?namespace=dev'));
    expect((await s.pass()).lines[0]).toMatchObject({ msg: 'Namespace unreadable, keeping its schedules', error: 'GET /system/functions?namespace=dev failed: connect ECONNREFUSED 127.0.0.1:8080' });
    s.client.setFunctions('dev', [cronFn('a', '*/5 * * * *'), cronFn('typo', '*/5 * * *')]);
    const back = await s.pass();
    const changes = back.lines.filter((l) => ['Added', 'Removed', 'Cannot schedule function'].includes(l.msg));
    expect(changes).toEqual([{ level: 'info', msg: 'Removed', function: 'b.dev', schedule: YEARLY, reason: 'function deleted or no longer annotated' }]);
    expect(s.nextFire('a.dev', '*/5 * * * *')).toBe(aNext);
  });

  it('should keep everything when the namespace list fails, and not count the pass as a success', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY), cronFn('b', YEARLY)]);
    await s.pass();
    s.clock.advance(30_000);
    s.client.namespaces = networkError('/system/namespaces');
    const { summary, lines, calls, metrics } = await s.pass();
    expect(summary).toEqual({ ok: false, namespaces: 0, functions: 2, schedules: 2, added: 0, removed: 0 });
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'Discovery failed, keeping current schedules',
        code: 'E_GATEWAY_NETWORK',
        error: 'GET /system/namespaces failed: connect ECONNREFUSED 127.0.0.1:8080',
      },
    ]);
    expect(calls).toEqual([{ kind: 'namespaces', timeoutMs: 10_000 }]);
    expect(metrics).toEqual([['rebuild', 'failure']]);
    expect(s.scheduler.size).toBe(2);
    expect(s.reconciler.lastSuccessAt).toBe(T0);
  });

  it('should change nothing, and report nothing, when the pass is cut short by shutdown', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY)]);
    await s.pass();
    s.client.setFunctions('dev', []);
    const stop = new AbortController();
    const listing = deferred<undefined>();
    s.client.gate = (call) => (call.kind === 'functions' ? listing.promise : Promise.resolve());
    const passing = s.pass(stop.signal);
    await flushMicrotasks();
    stop.abort();
    listing.resolve(undefined);
    const { summary, lines, metrics } = await passing;
    expect(summary).toEqual({ ok: false, namespaces: 0, functions: 1, schedules: 1, added: 0, removed: 0 });
    expect(lines).toEqual([]);
    expect(metrics).toEqual([]);

    // shut down while listing namespaces: no "Discovery failed" either
    const listNamespaces = deferred<undefined>();
    s.client.gate = () => listNamespaces.promise;
    s.client.namespaces = new Error('aborted');
    const stopped = new AbortController();
    const cut = s.pass(stopped.signal);
    stopped.abort();
    listNamespaces.resolve(undefined);
    expect(await cut).toMatchObject({ lines: [], metrics: [], summary: { ok: false } });
  });
});

describe('Reconciler: what changes between passes', () => {
  it('should replace only the schedule that changed, keep the others\' timers, and update invocation settings in place', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', [cronFn('multi', '*/5 * * * *; 0 0 * * *'), cronFn('same', YEARLY)]);
    await s.pass();
    const fiveNext = s.nextFire('multi.dev', '*/5 * * * *');
    s.client.setFunctions('dev', [cronFn('multi', '*/5 * * * *; 30 0 * * *', { 'com.openfaas.cron.async': 'true' }), cronFn('same', YEARLY)]);
    const { lines, summary } = await s.pass();
    expect(lines.slice(0, 2)).toEqual([
      { level: 'info', msg: 'Removed', function: 'multi.dev', schedule: '0 0 * * *', reason: 'schedule changed' },
      { level: 'info', msg: 'Added', function: 'multi.dev', schedule: '30 0 * * *', next: '2026-11-24T00:30:00.000Z', async: true },
    ]);
    expect(summary).toMatchObject({ functions: 2, schedules: 3, added: 1, removed: 1 });
    expect(s.nextFire('multi.dev', '*/5 * * * *')).toBe(fiveNext);
    // the schedule that stayed fires with the function's new settings
    s.scheduler.start();
    s.clock.advance(3 * 60_000);
    expect(s.fired.map((e) => [e.payload.id, e.schedule.expression, e.payload.async])).toEqual([['multi.dev', '*/5 * * * *', true]]);
  });

  it('should warn once about a function it cannot schedule, again only when its annotations change', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    const listing = (schedule: string): ListedFunction[] => [cronFn('good', YEARLY), cronFn('typo', schedule)];
    s.client.setFunctions('dev', listing('*/5 * * *'));
    const first = await s.pass();
    expect(first.lines.filter((l) => l.msg === 'Cannot schedule function')).toEqual([
      {
        level: 'warn',
        msg: 'Cannot schedule function',
        function: 'typo.dev',
        reason: 'invalid schedule "*/5 * * *": expected 5 fields (minute hour day month weekday) or 6 with leading seconds, found 4',
      },
    ]);
    expect(first.lines.at(-1)).toMatchObject({ msg: 'Discovery complete', functions: 1, rejected: 1 });

    // unchanged, and again with other bytes in the listing (a new invocationCount)
    expect(brief((await s.pass()).lines)).toEqual([['debug', 'Discovery complete', undefined]]);
    s.client.setFunctions('dev', [{ ...cronFn('good', YEARLY), invocationCount: 9 }, { ...cronFn('typo', '*/5 * * *'), invocationCount: 3 }]);
    expect(brief((await s.pass()).lines)).toEqual([['debug', 'Discovery complete', undefined]]);

    s.client.setFunctions('dev', listing('*/5 * *'));
    expect(brief((await s.pass()).lines, 'reason')).toEqual([
      ['warn', 'Cannot schedule function', expect.stringContaining('invalid schedule "*/5 * *"')],
      ['debug', 'Discovery complete', undefined],
    ]);

    s.client.setFunctions('dev', listing('*/5 * * * *'));
    expect(brief((await s.pass()).lines)).toEqual([
      ['info', 'Added', 'typo.dev'],
      ['debug', 'Discovery complete', undefined],
    ]);

    s.client.setFunctions('dev', listing('*/5 * * *'));
    const broken = await s.pass();
    expect(brief(broken.lines, 'reason')).toEqual([
      ['warn', 'Cannot schedule function', expect.stringContaining('invalid schedule "*/5 * * *"')],
      ['info', 'Removed', 'annotations no longer valid'],
      ['debug', 'Discovery complete', undefined],
    ]);
  });

  it('should reuse a listing that is byte for byte the last one without parsing it', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY), cronFn('b', YEARLY)]);
    await s.pass();
    const a = s.reconciler.current.functions.get('a.dev');
    const parse = vi.spyOn(JSON, 'parse');
    const same = await s.pass();
    expect(parse).not.toHaveBeenCalled();
    expect(same.summary).toMatchObject({ functions: 2, added: 0, removed: 0 });
    expect(s.reconciler.current.functions.get('a.dev')).toBe(a);

    // other bytes, same annotations: parsed once, and the functions are reused as they are
    s.client.setFunctions('dev', [{ ...cronFn('a', YEARLY), invocationCount: 5 }, cronFn('b', YEARLY)]);
    const counted = await s.pass();
    expect(parse).toHaveBeenCalledTimes(1);
    expect(brief(counted.lines)).toEqual([['debug', 'Discovery complete', undefined]]);
    expect(s.reconciler.current.functions.get('a.dev')).toBe(a);
  });

  it('should forget everything on clear(), so the next pass schedules it all again', async () => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', [cronFn('a', YEARLY)]);
    await s.pass();
    s.reconciler.clear();
    expect(s.scheduler.size).toBe(0);
    expect(s.reconciler.current.functions.size).toBe(0);
    const { lines } = await s.pass();
    expect(lines[0]).toEqual({ level: 'info', msg: 'Added', function: 'a.dev', schedule: YEARLY, next: NEXT_YEARLY });
  });
});

describe('Reconciler: a pass with many changes', () => {
  const names = (count: number): ListedFunction[] => Array.from({ length: count }, (_, i) => cronFn(`f${String(i).padStart(4, '0')}`, YEARLY));

  it.each([
    [100, undefined],
    [101, 1],
    [250, 150],
  ])('should name the first 100 of %d Added and Removed schedules and count the rest in one line (%s more)', async (count, more) => {
    const s = setup();
    s.client.namespaces = ['dev'];
    s.client.setFunctions('dev', names(count));
    const added = await s.pass();
    const addedLines = added.lines.filter((l) => l.msg === 'Added');
    expect(addedLines).toHaveLength(100);
    expect(addedLines.map((l) => l.function)).toEqual(names(100).map((f) => `${f.name}.dev`));
    const addedMore = added.lines.filter((l) => l.msg === 'Added more schedules');
    expect(addedMore).toEqual(more === undefined ? [] : [{ level: 'info', msg: 'Added more schedules', more, added: count, hint: expect.stringContaining('GET /schedules') }]);
    expect(added.summary).toMatchObject({ added: count, schedules: count });
    expect(s.scheduler.size).toBe(count);

    s.client.setFunctions('dev', []);
    const removed = await s.pass();
    expect(removed.lines.filter((l) => l.msg === 'Removed')).toHaveLength(100);
    const removedMore = removed.lines.filter((l) => l.msg === 'Removed more schedules');
    expect(removedMore).toEqual(more === undefined ? [] : [{ level: 'info', msg: 'Removed more schedules', more, removed: count, hint: expect.stringContaining('GET /schedules') }]);
    expect(removed.summary).toMatchObject({ removed: count, schedules: 0 });
    expect(s.scheduler.size).toBe(0);
  });
});
