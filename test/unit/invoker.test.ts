/**
 * The Invoker in-process: fire events on a ManualClock, a gateway fake whose calls the test ends
 * by hand, a real pino logger in memory and a recording MetricsSink. Every delay is asserted to
 * the millisecond. (The per-function token path, jwt_auth, is not covered here.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { executionId } from '../../src/delivery.ts';
import { Invoker } from '../../src/invoker.ts';
import { selectFunction, stableHash, type DesiredFunction, type SelectionDefaults } from '../../src/schedule/annotations.ts';
import { Scheduler, type FireEvent } from '../../src/schedule/scheduler.ts';
import { flushMicrotasks, isSettled } from '../helpers/async.ts';
import { FakeInvokeClient } from '../helpers/fake-invoke-client.ts';
import { captureLogs } from '../helpers/logs.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { RecordingMetrics } from '../helpers/recording-metrics.ts';

/** A whole minute: every schedule below has a slot here. */
const T0 = Date.parse('2026-11-23T13:42:00.000Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const DEFAULTS: SelectionDefaults = { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 };

/** A function as discovery selects it from its annotations. */
function cronFunction(name: string, schedule: string, annotations: Record<string, string> = {}): DesiredFunction {
  const selection = selectFunction({ name, namespace: 'dev', annotations: { topic: 'cron-function', schedule, ...annotations } }, DEFAULTS);
  if (selection.kind !== 'selected') throw new Error(`${name} was not selected: ${JSON.stringify(selection)}`);
  return selection.fn;
}

/** The scheduler's fire event for `fn`'s first schedule at `nominal` (ms after T0). */
function slot(fn: DesiredFunction, nominal: number, missed = 0): FireEvent<DesiredFunction> {
  const schedule = fn.schedules[0];
  if (schedule === undefined) throw new Error('no schedule');
  return { key: `${fn.id}|${schedule.key}`, payload: fn, schedule, nominal: T0 + nominal, missed, after: T0 + nominal };
}

function setup(opts: { maxInflight?: number } = {}) {
  const clock = new ManualClock(T0);
  const client = new FakeInvokeClient(clock);
  const logs = captureLogs();
  const metrics = new RecordingMetrics();
  const invoker = new Invoker({ client, clock, logger: logs.logger, metrics, maxInflight: opts.maxInflight ?? 64, upstreamTimeoutMs: 60_000 });
  /** Moves the clock to `ms` after T0 and lets what that settles run. */
  const at = async (ms: number): Promise<void> => {
    clock.advanceTo(T0 + ms);
    await flushMicrotasks();
  };
  /** Invocations so far, as [function, ms after T0 when sent, attempt, ms after T0 of the slot]. */
  const sent = (): Array<[string, number, number, number]> => client.calls.map((c) => [c.req.name, c.at - T0, c.req.attempt, c.req.scheduledAt - T0]);
  return { clock, client, logs, metrics, invoker, at, sent };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Invoker: one call', () => {
  it('should send the first attempt at once, with the nominal time, attempt 1 and the execution id', () => {
    const s = setup();
    const fn = cronFunction('nodeinfo', '* * * * *');
    s.invoker.fire(slot(fn, 0));
    expect(s.client.calls.map((c) => c.req)).toEqual([
      {
        name: 'nodeinfo',
        namespace: 'dev',
        async: false,
        topic: 'cron-function',
        scheduledAt: T0,
        attempt: 1,
        executionId: executionId('nodeinfo.dev', '* * * * *', T0),
        timeoutMs: 60_000,
        signal: expect.any(AbortSignal),
      },
    ]);
    expect(s.logs.entries).toEqual([{ level: 'info', msg: 'Invoking', function: 'nodeinfo.dev', schedule: '* * * * *', scheduled: iso(0) }]);
    expect(s.metrics.calls).toEqual([['lateness', 0]]);
  });

  it('should log the Response with status, bytes and duration, record it and forget the call', async () => {
    const s = setup();
    const fn = cronFunction('nodeinfo', '* * * * *');
    s.clock.advance(7);
    s.invoker.fire(slot(fn, 0));
    expect(s.invoker.inflight).toBe(1);
    await s.at(257);
    s.client.call(0).answer(200, { bytes: 2 });
    await flushMicrotasks();
    expect(s.logs.entries.at(-1)).toEqual({ level: 'info', msg: 'Response', function: 'nodeinfo.dev', status: 200, bytes: 2, duration: '250ms' });
    expect(s.metrics.calls).toEqual([
      ['lateness', 0.007],
      ['invocation', 'nodeinfo.dev', '200', 0.25],
    ]);
    expect(s.invoker.lastRun('nodeinfo.dev')).toEqual({ scheduled: iso(0), time: iso(7), status: 200, duration: 0.25, attempts: 1 });
    expect(s.invoker.inflight).toBe(0);
  });

  it('should invoke an asynchronous function and log the call id of its 202', async () => {
    const s = setup();
    const fn = cronFunction('queued', '* * * * *', { 'com.openfaas.cron.async': 'true' });
    s.invoker.fire(slot(fn, 0));
    expect(s.client.calls[0]?.req.async).toBe(true);
    s.client.call(0).answer(202, { callId: 'call-1' });
    await flushMicrotasks();
    expect(s.logs.entries.at(-1)).toEqual({ level: 'info', msg: 'Response', function: 'queued.dev', status: 202, bytes: 0, duration: '0ms', callId: 'call-1' });
  });

  it.each([400, 404, 500, 501])('should log a %d as a warning with a hint, and not retry it', async (status) => {
    const s = setup();
    const fn = cronFunction('broken', '* * * * *');
    s.invoker.fire(slot(fn, 0));
    await s.at(30);
    s.client.call(0).answer(status, { bytes: 4 });
    await flushMicrotasks();
    expect(s.logs.entries.at(-1)).toEqual({
      level: 'warn',
      msg: 'Response',
      function: 'broken.dev',
      status,
      bytes: 4,
      duration: '30ms',
      hint: expect.any(String),
    });
    expect(s.logs.named('Retrying')).toEqual([]);
    expect(s.clock.pending).toBe(0);
    expect(s.client.calls).toHaveLength(1);
    expect(s.metrics.of('invocation')).toEqual([['broken.dev', String(status), 0.03]]);
  });

  it('should point a failed function at its logs', async () => {
    const s = setup();
    s.invoker.fire(slot(cronFunction('broken', '* * * * *'), 0));
    s.client.call(0).answer(500);
    await flushMicrotasks();
    expect(s.logs.entries.at(-1)?.hint).toEqual(expect.stringContaining('faas-cli logs'));
  });

  it('should report missed slots before firing the latest one', () => {
    const s = setup();
    const fn = cronFunction('late', '* * * * *');
    s.invoker.fire(slot(fn, 0, 3));
    expect(s.metrics.calls[0]).toEqual(['skipped', 'missed', 3]);
    expect(s.logs.entries.map((e) => e.msg)).toEqual(['Missed', 'Invoking']);
    expect(s.logs.entries[0]).toEqual({ level: 'warn', msg: 'Missed', function: 'late.dev', schedule: '* * * * *', missed: 3, catchup: 'all', running: 1, firing: iso(0) });
  });

  it('should forget the last results of functions no longer scheduled', async () => {
    const s = setup();
    const [a, b] = [cronFunction('a', '* * * * *'), cronFunction('b', '* * * * *')];
    s.invoker.fire(slot(a, 0));
    s.invoker.fire(slot(b, 0));
    for (const c of s.client.calls) c.answer(200);
    await flushMicrotasks();
    s.invoker.retainOnly(new Map([['a.dev', a]]));
    expect(s.invoker.lastRun('a.dev')).toMatchObject({ status: 200 });
    expect(s.invoker.lastRun('b.dev')).toBeUndefined();
    expect(s.metrics.calls.at(-1)).toEqual(['retainOnly', ['a.dev']]);
  });
});

describe('Invoker: retries', () => {
  it('should retry a 503 after exactly the backoff delay, with the same execution id and the next attempt number', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = setup();
    const fn = cronFunction('flaky', '* * * * *');
    s.invoker.fire(slot(fn, 0));
    await s.at(20);
    s.client.call(0).answer(503);
    await flushMicrotasks();
    // first retry: 250 ms fixed + 250 ms × random (0.5)
    expect(s.logs.named('Retrying')).toEqual([{ level: 'warn', msg: 'Retrying', function: 'flaky.dev', attempt: 1, status: 503, retryIn: '375ms' }]);
    expect(s.metrics.of('retry')).toEqual([['flaky.dev']]);
    await s.at(394);
    expect(s.client.calls).toHaveLength(1);
    await s.at(395);
    expect(s.sent()).toEqual([
      ['flaky', 0, 1, 0],
      ['flaky', 395, 2, 0],
    ]);
    expect(s.client.calls[1]?.req.executionId).toBe(s.client.calls[0]?.req.executionId);
    s.client.call(1).answer(200);
    await flushMicrotasks();
    expect(s.logs.entries.at(-1)).toEqual({ level: 'info', msg: 'Response', function: 'flaky.dev', status: 200, bytes: 0, duration: '395ms', attempts: 2 });
    expect(s.metrics.of('invocation')).toEqual([['flaky.dev', '200', 0.395]]);
    expect(s.invoker.lastRun('flaky.dev')).toMatchObject({ status: 200, attempts: 2, duration: 0.395 });
  });

  it('should double the backoff on each retry, half fixed and half random', async () => {
    vi.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(1).mockReturnValueOnce(0.5);
    const s = setup();
    const fn = cronFunction('down', '* * * * *', { 'com.openfaas.cron.retries': '3' });
    s.invoker.fire(slot(fn, 0));
    // 500 ms × 2^(n-1), half of it fixed: 250 + 0 × 250, then 500 + 1 × 500, then 1000 + 0.5 × 1000
    for (const next of [250, 1250, 2750]) {
      s.client.call(-1).answer(503);
      await flushMicrotasks();
      await s.at(next - 1);
      const before = s.client.calls.length;
      await s.at(next);
      expect(s.client.calls.length).toBe(before + 1);
    }
    s.client.call(-1).answer(503);
    await flushMicrotasks();
    expect(s.sent()).toEqual([
      ['down', 0, 1, 0],
      ['down', 250, 2, 0],
      ['down', 1250, 3, 0],
      ['down', 2750, 4, 0],
    ]);
    expect(s.logs.named('Retrying').map((e) => [e.attempt, e.retryIn])).toEqual([
      [1, '250ms'],
      [2, '1s'],
      [3, '1.5s'],
    ]);
    // the retries are used up: the last answer is the result
    expect(s.logs.entries.at(-1)).toMatchObject({ level: 'warn', msg: 'Response', status: 503, attempts: 4, duration: '2.75s' });
    expect(s.clock.pending).toBe(0);
  });

  it('should wait exactly the seconds Retry-After asks before retrying a 429', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const s = setup();
    const fn = cronFunction('throttled', '* * * * *');
    s.invoker.fire(slot(fn, 0));
    await s.at(10);
    s.client.call(0).answer(429, { headers: { 'retry-after': '3' } });
    await flushMicrotasks();
    expect(s.logs.named('Retrying')).toEqual([{ level: 'warn', msg: 'Retrying', function: 'throttled.dev', attempt: 1, status: 429, retryIn: '3s' }]);
    await s.at(3009);
    expect(s.client.calls).toHaveLength(1);
    await s.at(3010);
    expect(s.sent()).toEqual([
      ['throttled', 0, 1, 0],
      ['throttled', 3010, 2, 0],
    ]);
  });

  it('should honour a Retry-After given as an HTTP date', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const s = setup();
    s.invoker.fire(slot(cronFunction('throttled', '* * * * *'), 0));
    s.client.call(0).answer(503, { headers: { 'retry-after': new Date(T0 + 4000).toUTCString() } });
    await flushMicrotasks();
    await s.at(3999);
    expect(s.client.calls).toHaveLength(1);
    await s.at(4000);
    expect(s.client.calls).toHaveLength(2);
  });

  it('should keep the backoff when Retry-After asks for less', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = setup();
    s.invoker.fire(slot(cronFunction('throttled', '* * * * *'), 0));
    s.client.call(0).answer(429, { headers: { 'retry-after': '0' } });
    await flushMicrotasks();
    expect(s.logs.named('Retrying')[0]).toMatchObject({ retryIn: '375ms' });
    await s.at(374);
    expect(s.client.calls).toHaveLength(1);
    await s.at(375);
    expect(s.client.calls).toHaveLength(2);
  });

  it('should retry a network error but not a timeout, and log the failure with its attempts', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = setup();
    const fn = cronFunction('remote', '* * * * *');
    s.invoker.fire(slot(fn, 0));
    s.client.call(0).fail('network');
    await flushMicrotasks();
    expect(s.logs.named('Retrying')).toEqual([
      { level: 'warn', msg: 'Retrying', function: 'remote.dev', attempt: 1, error: 'POST /function/remote.dev failed: other side closed (UND_ERR_SOCKET)', retryIn: '375ms' },
    ]);
    await s.at(375);
    s.client.call(1).fail('timeout');
    await flushMicrotasks();
    expect(s.client.calls).toHaveLength(2);
    expect(s.clock.pending).toBe(0);
    expect(s.logs.entries.at(-1)).toEqual({
      level: 'warn',
      msg: 'Invocation failed',
      function: 'remote.dev',
      schedule: '* * * * *',
      error: 'POST /function/remote.dev timed out after 1m0s',
      duration: '375ms',
      attempts: 2,
    });
    expect(s.metrics.of('invocation')).toEqual([['remote.dev', 'error', 0.375]]);
    expect(s.invoker.lastRun('remote.dev')).toMatchObject({ status: 'error', attempts: 2 });
  });

  it('should not retry a function whose retries annotation is 0', async () => {
    const s = setup();
    s.invoker.fire(slot(cronFunction('once', '* * * * *', { 'com.openfaas.cron.retries': '0' }), 0));
    s.client.call(0).answer(503);
    await flushMicrotasks();
    expect(s.clock.pending).toBe(0);
    expect(s.logs.messages()).toEqual(['Invoking', 'Response']);
    expect(s.logs.entries.at(-1)).toMatchObject({ level: 'warn', status: 503 });
    expect(s.logs.entries.at(-1)).not.toHaveProperty('attempts');
  });

  it.each([
    [624, 'make the retry 1 ms before the next slot', true],
    [625, 'not make a retry that would start on the next slot', false],
  ])('should, after a 503 at %d ms of a one-second schedule, %s', async (answeredAt, _what, retried) => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = setup();
    const fn = cronFunction('tight', '* * * * * *');
    s.invoker.fire(slot(fn, 0));
    await s.at(answeredAt);
    s.client.call(0).answer(503);
    await flushMicrotasks();
    // the backoff is 375 ms; the next slot is at 1000 ms
    await s.at(999);
    if (retried) {
      expect(s.sent()).toEqual([
        ['tight', 0, 1, 0],
        ['tight', 999, 2, 0],
      ]);
      expect(s.logs.named('Giving up retries')).toEqual([]);
    } else {
      expect(s.sent()).toEqual([['tight', 0, 1, 0]]);
      expect(s.logs.named('Retrying')).toEqual([]);
      expect(s.logs.named('Giving up retries')).toEqual([
        { level: 'warn', msg: 'Giving up retries', function: 'tight.dev', attempts: 1, reason: 'the next slot is due before another attempt' },
      ]);
      expect(s.logs.entries.at(-1)).toMatchObject({ msg: 'Response', status: 503 });
      expect(s.clock.pending).toBe(0);
    }
  });
});

describe('Invoker: overlap and jitter', () => {
  /** A real Scheduler firing into the invoker, as the daemon wires them. */
  function scheduled(s: ReturnType<typeof setup>, fn: DesiredFunction): Scheduler<DesiredFunction> {
    const scheduler = new Scheduler<DesiredFunction>({ clock: s.clock, onFire: (e) => s.invoker.fire(e) });
    scheduler.start();
    for (const schedule of fn.schedules) scheduler.add(`${fn.id}|${schedule.key}`, schedule, fn);
    return scheduler;
  }

  it('should skip exactly the slot that overlaps a running call when concurrency is forbid', async () => {
    const s = setup();
    const fn = cronFunction('single', '* * * * * *', { 'com.openfaas.cron.concurrency': 'forbid' });
    const scheduler = scheduled(s, fn);
    await s.at(1000);
    await s.at(2000);
    expect(s.logs.named('Skipped')).toEqual([
      {
        level: 'warn',
        msg: 'Skipped',
        function: 'single.dev',
        schedule: '* * * * * *',
        scheduled: iso(2000),
        reason: 'previous invocation still running (concurrency=forbid)',
      },
    ]);
    expect(s.metrics.of('skipped')).toEqual([['overlap', 1]]);
    await s.at(2500);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    await s.at(3000);
    expect(s.sent()).toEqual([
      ['single', 1000, 1, 1000],
      ['single', 3000, 1, 3000],
    ]);
    expect(s.logs.named('Skipped')).toHaveLength(1);
    scheduler.stop();
  });

  it('should let slots overlap by default', async () => {
    const s = setup();
    const scheduler = scheduled(s, cronFunction('many', '* * * * * *'));
    await s.at(3000);
    expect(s.sent()).toEqual([
      ['many', 1000, 1, 1000],
      ['many', 2000, 1, 2000],
      ['many', 3000, 1, 3000],
    ]);
    expect(s.invoker.inflight).toBe(3);
    expect(s.logs.named('Skipped')).toEqual([]);
    scheduler.stop();
  });

  it('should count a forbid call waiting for max_inflight as running', async () => {
    const s = setup({ maxInflight: 1 });
    const single = cronFunction('single', '* * * * * *', { 'com.openfaas.cron.concurrency': 'forbid' });
    s.invoker.fire(slot(cronFunction('hog', '* * * * *'), 0));
    s.invoker.fire(slot(single, 0));
    await s.at(1000);
    s.invoker.fire(slot(single, 1000));
    expect(s.logs.named('Skipped').map((e) => e.scheduled)).toEqual([iso(1000)]);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    expect(s.sent()).toEqual([
      ['hog', 0, 1, 0],
      ['single', 1000, 1, 0],
    ]);
  });

  it('should delay the send by exactly the function\'s jitter offset, keep the nominal time and count no lateness', async () => {
    const s = setup();
    const fn = cronFunction('spread', '* * * * *', { 'com.openfaas.cron.jitter': '800ms' });
    const offset = stableHash('spread.dev') % 800;
    expect(fn.jitterOffsetMs).toBe(offset);
    expect(offset).toBeGreaterThan(1);
    s.invoker.fire(slot(fn, 0));
    expect(s.clock.requested).toEqual([offset]);
    await s.at(offset - 1);
    expect(s.client.calls).toHaveLength(0);
    await s.at(offset);
    expect(s.sent()).toEqual([['spread', offset, 1, 0]]);
    expect(s.logs.entries).toEqual([{ level: 'info', msg: 'Invoking', function: 'spread.dev', schedule: '* * * * *', scheduled: iso(0) }]);
    expect(s.metrics.calls).toEqual([['lateness', 0]]);
  });
});

describe('Invoker: max_inflight', () => {
  it('should run exactly max_inflight calls at once and start the next, in order, when one ends', async () => {
    const s = setup({ maxInflight: 2 });
    for (const name of ['a', 'b', 'c', 'd']) s.invoker.fire(slot(cronFunction(name, '* * * * *'), 0));
    expect(s.sent()).toEqual([
      ['a', 0, 1, 0],
      ['b', 0, 1, 0],
    ]);
    expect(s.invoker.inflight).toBe(4);
    await s.at(400);
    s.client.call(1).answer(200);
    await flushMicrotasks();
    expect(s.client.open.map((c) => c.req.name)).toEqual(['a', 'c']);
    await s.at(700);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    expect(s.client.open.map((c) => c.req.name)).toEqual(['c', 'd']);
    expect(s.sent()).toEqual([
      ['a', 0, 1, 0],
      ['b', 0, 1, 0],
      ['c', 400, 1, 0],
      ['d', 700, 1, 0],
    ]);
    // a call that waited for its turn was late by the wait
    expect(s.metrics.of('lateness')).toEqual([[0], [0], [0.4], [0.7]]);
    expect(s.invoker.inflight).toBe(2);
  });
  it('should send the next waiting call before the finished one is reported, and free its place when reporting throws', async () => {
    const s = setup({ maxInflight: 1 });
    for (const name of ['a', 'b']) s.invoker.fire(slot(cronFunction(name, '* * * * *'), 0));
    const order: string[] = [];
    vi.spyOn(s.metrics, 'invocation').mockImplementation((fn) => {
      order.push(`report ${fn.id}: ${s.client.calls.length} sent`);
      throw new Error('metrics broke');
    });
    await s.at(300);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    expect(order).toEqual(['report a.dev: 2 sent']);
    expect(s.logs.named('Invocation crashed')).toEqual([{ level: 'error', msg: 'Invocation crashed', function: 'a.dev', error: 'metrics broke' }]);
    expect(s.sent()).toEqual([
      ['a', 0, 1, 0],
      ['b', 300, 1, 0],
    ]);
    expect(s.invoker.inflight).toBe(1);
    s.client.call(1).answer(200);
    await flushMicrotasks();
    expect(s.invoker.inflight).toBe(0);
    expect(await s.invoker.drain(1000)).toBe(0);
  });

  it('should keep a slot whose Invoking bookkeeping throws until its answer, and count every place once', async () => {
    const s = setup({ maxInflight: 1 });
    vi.spyOn(s.metrics, 'lateness').mockImplementation(() => {
      throw new Error('metrics broke');
    });
    for (const name of ['a', 'b']) s.invoker.fire(slot(cronFunction(name, '* * * * *'), 0));
    expect(s.logs.named('Invocation crashed').map((e) => e.function)).toEqual(['a.dev']);
    // a still holds the only place: b waits
    expect(s.sent().map(([name]) => name)).toEqual(['a']);
    expect(s.invoker.inflight).toBe(2);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    expect(s.sent().map(([name]) => name)).toEqual(['a', 'b']);
    expect(s.invoker.inflight).toBe(1);
    s.client.call(1).answer(200);
    await flushMicrotasks();
    expect(s.invoker.inflight).toBe(0);
    expect(s.logs.named('Response').map((e) => e.function)).toEqual(['a.dev', 'b.dev']);
  });

  it('should start 10,000 waiting calls in the order they fired, one per place freed', async () => {
    const s = setup({ maxInflight: 3 });
    const names = Array.from({ length: 10_000 }, (_, i) => `f${i}`);
    for (const name of names) s.invoker.fire(slot(cronFunction(name, '* * * * *'), 0));
    expect(s.client.calls).toHaveLength(3);
    let rounds = 0;
    for (let open = s.client.open; open.length > 0; open = s.client.open, rounds++) {
      expect(open).toHaveLength(Math.min(3, names.length - s.client.calls.length + open.length));
      for (const call of open) call.answer(200);
      await flushMicrotasks();
    }
    expect(rounds).toBe(Math.ceil(names.length / 3));
    expect(s.client.calls.map((c) => c.req.name)).toEqual(names);
    expect(s.invoker.inflight).toBe(0);
  });
});

describe('Invoker: connection warm-up', () => {
  it('should open one connection per call the slot will make, up to max_inflight, after 4 s without a call', () => {
    const s = setup({ maxInflight: 3 });
    s.invoker.prepare(5);
    expect(s.client.warms).toHaveLength(3);
    s.clock.advance(3999);
    s.invoker.prepare(5);
    expect(s.client.warms).toHaveLength(3);
    s.clock.advance(1);
    s.invoker.prepare(2);
    expect(s.client.warms).toHaveLength(5);
    s.clock.advance(4000);
    s.invoker.prepare(0);
    expect(s.client.warms.map((w) => w.at - T0)).toEqual([0, 0, 0, 4000, 4000, 8000]);
  });

  it('should not warm up within 4 s of the last attempt sent', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = setup();
    s.invoker.fire(slot(cronFunction('busy', '* * * * *'), 0));
    s.client.call(0).answer(503);
    await flushMicrotasks();
    await s.at(375);
    expect(s.client.calls).toHaveLength(2);
    // the retry at 375 ms counts as traffic
    await s.at(4374);
    s.invoker.prepare(1);
    expect(s.client.warms).toHaveLength(0);
    await s.at(4375);
    s.invoker.prepare(1);
    expect(s.client.warms.map((w) => w.at - T0)).toEqual([4375]);
  });

  it('should log a failed warm-up once at debug and never throw', async () => {
    const s = setup({ maxInflight: 3 });
    s.client.warmError = new Error('connect ECONNREFUSED 127.0.0.1:8080');
    expect(() => s.invoker.prepare(3)).not.toThrow();
    await flushMicrotasks();
    expect(s.client.warms).toHaveLength(3);
    expect(s.logs.entries).toEqual([{ level: 'debug', msg: 'Connection warm-up failed', error: 'connect ECONNREFUSED 127.0.0.1:8080' }]);
  });
});

describe('Invoker: drain', () => {
  it('should return 0 at once when nothing is in flight, then start nothing', async () => {
    const s = setup();
    const drained = s.invoker.drain(5000);
    expect(await isSettled(drained)).toBe(true);
    expect(await drained).toBe(0);
    s.invoker.prepare(1);
    s.invoker.fire(slot(cronFunction('late', '* * * * *'), 0));
    await flushMicrotasks();
    expect(s.client.warms).toEqual([]);
    expect(s.client.calls).toEqual([]);
    expect(s.invoker.inflight).toBe(0);
  });

  it('should wait for the calls in flight and return 0 when they end before the timeout', async () => {
    const s = setup();
    s.invoker.fire(slot(cronFunction('a', '* * * * *'), 0));
    const drained = s.invoker.drain(5000);
    await s.at(1000);
    expect(await isSettled(drained)).toBe(false);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    expect(await isSettled(drained)).toBe(true);
    expect(await drained).toBe(0);
    expect(s.clock.pending).toBe(0);
  });

  it('should return the count still running at exactly the timeout, and abort them', async () => {
    const s = setup({ maxInflight: 2 });
    for (const name of ['a', 'b', 'c']) s.invoker.fire(slot(cronFunction(name, '* * * * *'), 0));
    const drained = s.invoker.drain(5000);
    await s.at(1000);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    // the waiting call started when a slot freed up
    expect(s.sent().map(([name, sentAt]) => [name, sentAt])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 1000],
    ]);
    await s.at(4999);
    expect(await isSettled(drained)).toBe(false);
    await s.at(5000);
    expect(await isSettled(drained)).toBe(true);
    expect(await drained).toBe(2);
    expect(s.client.calls.map((c) => c.req.signal?.aborted)).toEqual([true, true, true]);
  });

  it('should not start a call still waiting for max_inflight once the timeout passed', async () => {
    const s = setup({ maxInflight: 1 });
    s.invoker.fire(slot(cronFunction('a', '* * * * *'), 0));
    s.invoker.fire(slot(cronFunction('b', '* * * * *'), 0));
    const drained = s.invoker.drain(1000);
    await s.at(1000);
    expect(await drained).toBe(2);
    s.client.call(0).answer(200);
    await flushMicrotasks();
    expect(s.sent().map(([name]) => name)).toEqual(['a']);
    expect(s.logs.named('Invoking').map((e) => e.function)).toEqual(['a.dev']);
    expect(s.invoker.inflight).toBe(0);
  });

  it('should end a retry waiting for its backoff at the timeout, without another attempt', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = setup();
    s.invoker.fire(slot(cronFunction('flaky', '* * * * *'), 0));
    s.client.call(0).answer(503);
    await flushMicrotasks();
    const drained = s.invoker.drain(100);
    await s.at(100);
    expect(await drained).toBe(1);
    await flushMicrotasks();
    expect(s.clock.pending).toBe(0);
    await s.at(1000);
    expect(s.client.calls).toHaveLength(1);
    expect(s.logs.entries.at(-1)).toMatchObject({ level: 'warn', msg: 'Response', function: 'flaky.dev', status: 503, duration: '100ms' });
    expect(s.invoker.inflight).toBe(0);
  });
});
