import { describe, expect, it } from 'vitest';
import type { DesiredFunction } from '../../src/schedule/annotations.ts';
import { selectFunction } from '../../src/schedule/annotations.ts';
import type { DesiredState, Rejection } from '../../src/schedule/desired.ts';
import { entryKey } from '../../src/reconcile.ts';
import { BUSY_HOLD_MS, MAX_HELD, MAX_WAITING, SLICE_MS, SchedulesEndpoint, parseSchedulesQuery, sortInSlices, spacingAfter, type SchedulesDocument } from '../../src/status.ts';
import { deferred, flushMicrotasks } from '../helpers/async.ts';

const NOW = Date.parse('2026-12-02T10:00:00.500Z');
const defaults = { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 };

function desired(name: string, namespace: string, schedule: string, extra: Record<string, string> = {}): DesiredFunction {
  const s = selectFunction({ name, namespace, annotations: { topic: 'cron-function', schedule, ...extra } }, defaults);
  if (s.kind !== 'selected') throw new Error(`${name}.${namespace} not selected`);
  return s.fn;
}

function state(functions: DesiredFunction[], rejected: Rejection[] = []): DesiredState {
  return { functions: new Map(functions.map((f) => [f.id, f])), rejected: new Map(rejected.map((r) => [r.id, r])) };
}

/**
 * An endpoint over `s` whose scheduler knows each entry's next fire time from the schedule itself
 * (and has no slot due unless `nextDue` says so); waits are recorded and end at once.
 */
function endpoint(s: DesiredState, opts: Partial<ConstructorParameters<typeof SchedulesEndpoint>[1]> = {}, nextDue: () => number | undefined = () => undefined) {
  const asked: string[] = [];
  const waits: number[] = [];
  const e = new SchedulesEndpoint(
    {
      state: () => s,
      nextFire: (key) => {
        asked.push(key);
        for (const fn of s.functions.values()) for (const sc of fn.schedules) if (entryKey(fn, sc) === key) return sc.next(NOW);
        return undefined;
      },
      nextDue,
      lastRun: () => undefined,
      now: () => NOW,
    },
    {
      wait: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      ...opts,
    },
  );
  return { e, asked, waits };
}

async function doc(e: SchedulesEndpoint, query: string): Promise<SchedulesDocument> {
  const reply = await e.answer(new URLSearchParams(query));
  expect(reply.status).toBe(200);
  return JSON.parse(reply.body) as SchedulesDocument;
}

const many = (n: number, namespace: string): DesiredFunction[] =>
  Array.from({ length: n }, (_, i) => desired(`fn-${String(i).padStart(4, '0')}`, namespace, '* * * * * *'));

describe('/schedules', () => {
  it('should list a function with its schedules, the scheduler\'s next fire time and the two after it', async () => {
    const { e, asked } = endpoint(state([desired('nodeinfo', 'dev', '*/5 * * * * *; 0 9 * * MON-FRI', { 'com.openfaas.cron.timezone': 'Europe/London' })]));
    const d = await doc(e, '');
    expect(d).toEqual({
      generatedAt: '2026-12-02T10:00:00.500Z',
      total: { scheduled: 1, rejected: 0 },
      scheduled: [
        {
          function: 'nodeinfo.dev',
          name: 'nodeinfo',
          namespace: 'dev',
          timezone: 'Europe/London',
          async: false,
          retries: 2,
          concurrency: 'allow',
          schedules: [
            { expression: '*/5 * * * * *', next: ['2026-12-02T10:00:05.000Z', '2026-12-02T10:00:10.000Z', '2026-12-02T10:00:15.000Z'] },
            { expression: '0 9 * * MON-FRI', next: ['2026-12-03T09:00:00.000Z', '2026-12-04T09:00:00.000Z', '2026-12-07T09:00:00.000Z'] },
          ],
          last: null,
        },
      ],
      rejected: [],
      next: null,
    });
    expect(asked).toHaveLength(2);
  });

  it('should answer a page at a time, by function id, with the path of the next page', async () => {
    const rejected: Rejection = { id: 'fn-0001x.dev', namespace: 'dev', reason: 'invalid schedule', signature: 's' };
    const { e } = endpoint(state(many(250, 'dev'), [rejected]));
    const first = await doc(e, '');
    expect(first.total).toEqual({ scheduled: 250, rejected: 1 });
    expect(first.scheduled.map((f) => f.function).slice(0, 3)).toEqual(['fn-0000.dev', 'fn-0001.dev', 'fn-0002.dev']);
    expect(first.rejected).toEqual([{ function: 'fn-0001x.dev', namespace: 'dev', reason: 'invalid schedule' }]);
    expect(first.scheduled.length + first.rejected.length).toBe(100);
    expect(first.next).toBe('/schedules?limit=100&after=fn-0098.dev');
    const second = await doc(e, 'limit=100&after=fn-0098.dev');
    expect(second.scheduled[0]?.function).toBe('fn-0099.dev');
    const last = await doc(e, 'limit=1000&after=fn-0098.dev');
    expect([last.scheduled.length, last.next]).toEqual([151, null]);
  });

  it('should filter by namespace and by function, with totals for the filter', async () => {
    const { e } = endpoint(state([...many(3, 'dev'), ...many(2, 'staging'), desired('report', 'staging', '@daily')]));
    const staging = await doc(e, 'namespace=staging');
    expect(staging.scheduled.map((f) => f.function)).toEqual(['fn-0000.staging', 'fn-0001.staging', 'report.staging']);
    expect(staging.total).toEqual({ scheduled: 3, rejected: 0 });
    const byName = await doc(e, 'function=fn-0001');
    expect(byName.scheduled.map((f) => f.function)).toEqual(['fn-0001.dev', 'fn-0001.staging']);
    expect(byName.total).toEqual({ scheduled: 2, rejected: 0 });
    const byId = await doc(e, 'function=fn-0001.staging&limit=1');
    expect([byId.scheduled.map((f) => f.function), byId.next]).toEqual([['fn-0001.staging'], null]);
    expect((await doc(e, 'namespace=prod')).total).toEqual({ scheduled: 0, rejected: 0 });
  });

  it('should refuse a bad query with 400 and the reason', () => {
    expect(parseSchedulesQuery(new URLSearchParams('limit=0'))).toBe('limit must be a whole number from 1 to 1000, found "0"');
    expect(parseSchedulesQuery(new URLSearchParams('limit=1001'))).toBe('limit must be a whole number from 1 to 1000, found "1001"');
    expect(parseSchedulesQuery(new URLSearchParams('ns=dev'))).toBe('unknown parameter "ns": use namespace, function, limit or after');
    expect(parseSchedulesQuery(new URLSearchParams('namespace=dev&limit=5'))).toEqual({ namespace: 'dev', limit: 5 });
  });

  it('should yield to the event loop whenever a slice of work reaches SLICE_MS', async () => {
    let t = 0;
    let yields = 0;
    const { e } = endpoint(state(many(1000, 'dev')), {
      // every reading of the clock costs a quarter of a slice
      elapsed: () => (t += SLICE_MS / 4),
      yieldTurn: () => {
        yields++;
        return Promise.resolve();
      },
    });
    const d = await doc(e, 'limit=1000');
    expect(d.scheduled).toHaveLength(1000);
    // one reading per function checked: the fourth reading of a slice reaches SLICE_MS, so the
    // builder yields every 4 functions
    expect(yields).toBe(1000 / 4);
  });

  it('should build one answer at a time, and refuse with 503 beyond a few waiting, after holding the request a second', async () => {
    const gate = deferred<void>();
    let building = 0;
    let overlap = false;
    let t = 0;
    const { e, waits } = endpoint(state(many(10, 'dev')), {
      elapsed: () => (t += SLICE_MS),
      yieldTurn: async () => {
        building++;
        if (building > 1) overlap = true;
        await gate.promise;
        building--;
      },
    });
    const answers = Array.from({ length: MAX_WAITING }, () => e.answer(new URLSearchParams('limit=5')));
    await flushMicrotasks();
    const refused = await e.answer(new URLSearchParams(''));
    expect(refused).toEqual({
      status: 503,
      contentType: 'text/plain; charset=utf-8',
      body: `busy: ${MAX_WAITING} requests for /schedules are waiting; try again in a second\n`,
      headers: { 'retry-after': '1' },
    });
    expect(waits).toContain(BUSY_HOLD_MS);
    gate.resolve();
    const replies = await Promise.all(answers);
    expect(replies.map((r) => r.status)).toEqual(Array(MAX_WAITING).fill(200));
    expect(overlap).toBe(false);
    expect((await e.answer(new URLSearchParams(''))).status).toBe(200);
  });

  it('should space answers by max(100 ms, 4 × the last one\'s build time)', async () => {
    expect([0, 10, 25, 30, 250].map(spacingAfter)).toEqual([100, 100, 100, 120, 1000]);
    let t = 0;
    const { e, waits } = endpoint(state(many(10, 'dev')), { elapsed: () => t });
    await e.answer(new URLSearchParams(''));
    expect(waits).toEqual([]);
    t += 30;
    // the first answer took no time and ended at 0: the next may start at 100
    await e.answer(new URLSearchParams(''));
    expect(waits).toEqual([70]);
  });

  it('should not build within 10 ms of the next slot, waiting until it has fired', async () => {
    let now = NOW;
    const slots = [NOW + 7, NOW + 1000];
    const waits: number[] = [];
    const e = new SchedulesEndpoint(
      {
        state: () => state(many(3, 'dev')),
        nextFire: () => undefined,
        // a slot is due until the clock has passed it (the scheduler then moves on)
        nextDue: () => slots.find((slot) => slot >= now),
        lastRun: () => undefined,
        now: () => now,
      },
      {
        wait: (ms) => {
          waits.push(ms);
          now += ms;
          return Promise.resolve();
        },
      },
    );
    expect((await e.answer(new URLSearchParams(''))).status).toBe(200);
    expect(waits).toEqual([9]);
    expect(now).toBe(NOW + 9);
  });

  it('should write one function per line, as valid JSON', async () => {
    const rejected: Rejection = { id: 'zz.dev', namespace: 'dev', reason: 'invalid schedule "nope"', signature: 's' };
    const { e } = endpoint(state(many(2, 'dev'), [rejected]));
    const body = (await e.answer(new URLSearchParams(''))).body;
    const lines = body.split('\n');
    expect(lines.filter((l) => l.startsWith('    {"function":'))).toHaveLength(3);
    expect(JSON.parse(body)).toMatchObject({ total: { scheduled: 2, rejected: 1 }, rejected: [{ function: 'zz.dev', reason: 'invalid schedule "nope"' }], next: null });
    const empty = (await endpoint(state([])).e.answer(new URLSearchParams(''))).body;
    expect(JSON.parse(empty)).toEqual({ generatedAt: '2026-12-02T10:00:00.500Z', total: { scheduled: 0, rejected: 0 }, scheduled: [], rejected: [], next: null });
  });

  it('should answer 503 at once, without holding, when many requests are already held', async () => {
    const gate = deferred<void>();
    const holds: Array<() => void> = [];
    const e = new SchedulesEndpoint(
      { state: () => state(many(3, 'dev')), nextFire: () => undefined, nextDue: () => undefined, lastRun: () => undefined, now: () => NOW },
      {
        yieldTurn: () => gate.promise,
        elapsed: (() => {
          let t = 0;
          return () => (t += SLICE_MS);
        })(),
        wait: (ms) => (ms === BUSY_HOLD_MS ? new Promise<void>((resolve) => holds.push(resolve)) : Promise.resolve()),
      },
    );
    const queued = Array.from({ length: MAX_WAITING }, () => e.answer(new URLSearchParams('')));
    const held = Array.from({ length: MAX_HELD }, () => e.answer(new URLSearchParams('')));
    await flushMicrotasks();
    expect(holds).toHaveLength(MAX_HELD);
    expect((await e.answer(new URLSearchParams(''))).status).toBe(503);
    for (const release of holds) release();
    expect((await Promise.all(held)).every((r) => r.status === 503)).toBe(true);
    gate.resolve();
    expect((await Promise.all(queued)).every((r) => r.status === 200)).toBe(true);
  });

  it('should count the totals of a function filter over all pages, whichever page is asked for', async () => {
    const { e } = endpoint(state(['a', 'b', 'c'].map((ns) => desired('nightly', ns, '@daily'))));
    const pages: SchedulesDocument[] = [await doc(e, 'function=nightly&limit=1')];
    for (let next = pages[0]?.next; next != null; next = pages.at(-1)?.next) pages.push(await doc(e, next.slice('/schedules?'.length)));
    expect(pages.map((p) => [p.scheduled.map((f) => f.function), p.total.scheduled])).toEqual([
      [['nightly.a'], 3],
      [['nightly.b'], 3],
      [['nightly.c'], 3],
    ]);
  });

  it('should build its sorted index in slices too, not in one block', async () => {
    let t = 0;
    let yields = 0;
    const shuffled = many(5000, 'dev').sort(() => 0.5 - Math.random());
    const { e } = endpoint(state(shuffled), {
      elapsed: () => (t += SLICE_MS / 4),
      yieldTurn: () => {
        yields++;
        return Promise.resolve();
      },
    });
    const d = await doc(e, 'limit=2');
    expect(d.scheduled.map((f) => f.function)).toEqual(['fn-0000.dev', 'fn-0001.dev']);
    // gathering 5,000 entries checks the clock every 1,024, sorting every 512-entry run and every
    // 4,096 moves: about 19 checks, and with each reading a quarter of a slice, a yield every 4th.
    // The page itself (2 functions) reads the clock twice: without the sliced index, no yield at all.
    expect(yields).toBeGreaterThanOrEqual(4);
  });

  it('should sort exactly as Array.prototype.sort does', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ id: `f${(i * 7919) % 3001}.ns${i % 7}`, namespace: 'x', name: 'y' }));
    let checkpoints = 0;
    const sorted = await sortInSlices([...items], () => {
      checkpoints++;
      return Promise.resolve();
    });
    expect(sorted.map((e) => e.id)).toEqual(items.map((e) => e.id).sort());
    expect(checkpoints).toBeGreaterThan(5);
  });

  it('should not wait on a slot long past (a stopped or paused scheduler)', async () => {
    const { e, waits } = endpoint(state(many(2, 'dev')), {}, () => NOW - 60_000);
    expect((await e.answer(new URLSearchParams(''))).status).toBe(200);
    expect(waits).toEqual([]);
  });
});
