/**
 * send()'s deadlines (one timer per list of requests that share a timeout) and its caller-signal
 * bookkeeping (one listener per signal), exactly in milliseconds with a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { send, sendTo, type HttpRequest, type HttpResponse, type Receiver } from '../../src/gateway/http.ts';
import { FakeDispatcher } from '../helpers/fake-dispatcher.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

type Outcome = { readonly at: number; readonly status?: number; readonly code?: string; readonly message?: string };

/** Sends one request and records when and how it ended (ms after the test's start). */
function track(fake: FakeDispatcher, path: string, timeoutMs: number, signal?: AbortSignal): { outcome: Outcome | undefined } {
  const t0 = start;
  const cell: { outcome: Outcome | undefined } = { outcome: undefined };
  const req: HttpRequest = { origin: 'http://gw:8080', path, method: 'POST', headers: {}, timeoutMs, maxBodyBytes: 1024, ...(signal === undefined ? {} : { signal }) };
  send(fake.dispatcher, req).then(
    (res: HttpResponse) => {
      cell.outcome = { at: performance.now() - t0, status: res.status };
    },
    (err: unknown) => {
      const e = err as GatewayError;
      cell.outcome = { at: performance.now() - t0, code: e.code, message: e.message };
    },
  );
  return cell;
}

let start = 0;

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('send(): deadlines', () => {
  it('should fail each request at its own deadline, to the millisecond, whether the ones before it answered or not', async () => {
    const fake = new FakeDispatcher();
    start = performance.now();
    const a = track(fake, '/function/a.dev', 100);
    await advance(30);
    const b = track(fake, '/function/b.dev', 100);
    await advance(30);
    const c = track(fake, '/function/c.dev', 100);
    // a short timeout started last is due first: it has its own list and timer
    const d = track(fake, '/function/d.dev', 20);
    await advance(10);
    fake.requests[0]?.answer(200, '');
    await advance(9);
    expect([a.outcome, b.outcome, c.outcome, d.outcome]).toEqual([{ at: 70, status: 200 }, undefined, undefined, undefined]);
    await advance(1);
    expect(d.outcome).toEqual({ at: 80, code: 'E_GATEWAY_TIMEOUT', message: 'POST /function/d.dev timed out after 20ms' });
    await advance(49);
    expect(b.outcome).toBeUndefined();
    await advance(1);
    expect(b.outcome).toEqual({ at: 130, code: 'E_GATEWAY_TIMEOUT', message: 'POST /function/b.dev timed out after 100ms' });
    expect(c.outcome).toBeUndefined();
    await advance(29);
    expect(c.outcome).toBeUndefined();
    await advance(1);
    expect(c.outcome).toEqual({ at: 160, code: 'E_GATEWAY_TIMEOUT', message: 'POST /function/c.dev timed out after 100ms' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should leave no timer behind once every request has answered, and start afresh after', async () => {
    const fake = new FakeDispatcher();
    start = performance.now();
    const first = Array.from({ length: 50 }, (_, i) => track(fake, `/function/f${i}.dev`, 1000));
    expect(vi.getTimerCount()).toBe(1);
    // answered out of order: the list is unlinked from its middle, head and tail
    for (const i of [25, 0, 49, ...Array.from({ length: 50 }, (_, k) => k).filter((k) => ![25, 0, 49].includes(k))]) fake.requests[i]?.answer(204, '');
    await advance(0);
    expect(first.every((r) => r.outcome?.status === 204)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await advance(500);
    const later = track(fake, '/function/later.dev', 1000);
    await advance(999);
    expect(later.outcome).toBeUndefined();
    await advance(1);
    expect(later.outcome).toEqual({ at: 1500, code: 'E_GATEWAY_TIMEOUT', message: 'POST /function/later.dev timed out after 1s' });
  });

  it('should still time out the requests left after their neighbours answered, in any order', async () => {
    for (const order of [
      [11, 9, 29, 31, 0, 49],
      [49, 48, 0, 1, 31, 29, 11, 9],
      Array.from({ length: 50 }, (_, i) => (i * 17) % 50).filter((i) => i !== 10 && i !== 30),
    ]) {
      const fake = new FakeDispatcher();
      start = performance.now();
      const all = Array.from({ length: 50 }, (_, i) => track(fake, `/function/f${i}.dev`, 1000));
      for (const i of order) fake.requests[i]?.answer(200, '');
      await advance(999);
      expect(all.filter((r) => r.outcome?.code !== undefined)).toEqual([]);
      await advance(1);
      const timedOut = all.flatMap((r, i) => (r.outcome?.code === 'E_GATEWAY_TIMEOUT' ? [i] : []));
      expect(timedOut).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => !order.includes(i)));
      expect(all.every((r) => r.outcome?.at === (r.outcome?.status === 200 ? 0 : 1000))).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    }
  });
});

describe('send(): deadlines, a request sent from a timed-out one\'s outcome', () => {
  it('should keep the next deadline exact when a request is sent from the outcome of one that timed out', async () => {
    const fake = new FakeDispatcher();
    start = performance.now();
    const outcomes: Array<[string, number, string]> = [];
    const receiver: Receiver<string> = {
      answered: (res, name) => outcomes.push([name, performance.now() - start, String(res.status)]),
      failed: (err, name) => {
        outcomes.push([name, performance.now() - start, err.code]);
        // a retry-like request, from inside the deadline timer's expiry
        if (name === 'a') sendTo(fake.dispatcher, { origin: 'http://gw:8080', path: '/function/c.dev', method: 'POST', headers: {}, timeoutMs: 100, maxBodyBytes: 1024 }, receiver, 'c');
      },
    };
    const req = (path: string): HttpRequest => ({ origin: 'http://gw:8080', path, method: 'POST', headers: {}, timeoutMs: 100, maxBodyBytes: 1024 });
    sendTo(fake.dispatcher, req('/function/a.dev'), receiver, 'a');
    await advance(50);
    sendTo(fake.dispatcher, req('/function/b.dev'), receiver, 'b');
    await advance(50);
    expect(outcomes).toEqual([['a', 100, 'E_GATEWAY_TIMEOUT']]);
    await advance(49);
    expect(outcomes).toHaveLength(1);
    await advance(1);
    expect(outcomes).toEqual([
      ['a', 100, 'E_GATEWAY_TIMEOUT'],
      ['b', 150, 'E_GATEWAY_TIMEOUT'],
    ]);
    await advance(50);
    expect(outcomes.at(-1)).toEqual(['c', 200, 'E_GATEWAY_TIMEOUT']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('send(): caller signals', () => {
  it('should end every request in flight under an aborted signal, and only those', async () => {
    const fake = new FakeDispatcher();
    start = performance.now();
    const shutdown = new AbortController();
    const other = new AbortController();
    const mine = [track(fake, '/function/a.dev', 1000, shutdown.signal), track(fake, '/function/b.dev', 1000, shutdown.signal), track(fake, '/function/c.dev', 1000, shutdown.signal)];
    const theirs = track(fake, '/function/d.dev', 1000, other.signal);
    fake.requests[1]?.answer(200, '');
    await advance(5);
    shutdown.abort(new Error('shutting down'));
    await advance(0);
    expect(mine.map((r) => r.outcome)).toEqual([
      { at: 5, code: 'E_GATEWAY_NETWORK', message: 'POST /function/a.dev failed: shutting down' },
      { at: 0, status: 200 },
      { at: 5, code: 'E_GATEWAY_NETWORK', message: 'POST /function/c.dev failed: shutting down' },
    ]);
    expect(theirs.outcome).toBeUndefined();
    fake.requests[3]?.answer(202, '');
    await advance(0);
    expect(theirs.outcome).toEqual({ at: 5, status: 202 });
    // a request under a signal already aborted ends at once, without being sent
    const late = track(fake, '/function/e.dev', 1000, shutdown.signal);
    await advance(0);
    expect(late.outcome).toEqual({ at: 5, code: 'E_GATEWAY_NETWORK', message: 'POST /function/e.dev failed: shutting down' });
    expect(fake.requests).toHaveLength(4);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('sendTo(): the receiver', () => {
  const told: string[] = [];
  const receiver: Receiver<string> = {
    answered: (res, context) => told.push(`${context} answered ${res.status}`),
    failed: (err, context) => told.push(`${context} failed ${err.code}: ${err.message}`),
  };
  const req = (path: string, signal?: AbortSignal): HttpRequest => ({ origin: 'http://gw:8080', path, method: 'POST', headers: {}, timeoutMs: 1000, maxBodyBytes: 1024, ...(signal === undefined ? {} : { signal }) });

  it('should hear of an answer as undici delivers it, with its context', () => {
    told.length = 0;
    const fake = new FakeDispatcher();
    sendTo(fake.dispatcher, req('/function/a.dev'), receiver, 'a');
    sendTo(fake.dispatcher, req('/function/b.dev'), receiver, 'b');
    fake.requests[1]?.answer(503, 'busy');
    fake.requests[0]?.answer(200, '');
    expect(told).toEqual(['b answered 503', 'a answered 200']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should report a receiver that throws as an unhandled rejection, and go on with the other requests', () => {
    told.length = 0;
    const rejected: unknown[] = [];
    const spy = vi.spyOn(Promise, 'reject').mockImplementation((reason?: unknown) => {
      rejected.push(reason);
      return Promise.resolve();
    });
    const bug = new Error('a bug in the receiver');
    const throwing: Receiver<string> = {
      answered: () => {
        throw bug;
      },
      failed: () => {
        throw bug;
      },
    };
    const fake = new FakeDispatcher();
    sendTo(fake.dispatcher, req('/function/a.dev'), throwing, 'a');
    sendTo(fake.dispatcher, req('/function/b.dev'), receiver, 'b');
    fake.requests[0]?.answer(200, '');
    fake.requests[1]?.answer(204, '');
    spy.mockRestore();
    expect(rejected).toEqual([bug]);
    expect(told).toEqual(['b answered 204']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should still fail once when describing the failure fails (an origin that does not parse)', async () => {
    told.length = 0;
    const gone = new AbortController();
    gone.abort(new Error('shutting down'));
    sendTo(new FakeDispatcher().dispatcher, { ...req('/function/a.dev', gone.signal), origin: 'not a url' }, receiver, 'a');
    await Promise.resolve();
    await Promise.resolve();
    expect(told).toEqual(['a failed E_GATEWAY_NETWORK: POST /function/a.dev failed: shutting down']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should never be told from inside sendTo(): an aborted signal or a dispatcher that throws fails one microtask later', async () => {
    told.length = 0;
    const gone = new AbortController();
    gone.abort(new Error('shutting down'));
    sendTo(new FakeDispatcher().dispatcher, req('/function/a.dev', gone.signal), receiver, 'a');
    const throwing = { dispatch: () => { throw new Error('boom'); } } as unknown as Parameters<typeof sendTo>[0];
    sendTo(throwing, req('/function/b.dev'), receiver, 'b');
    expect(told).toEqual([]);
    await Promise.resolve();
    expect(told).toEqual(['a failed E_GATEWAY_NETWORK: POST /function/a.dev failed: shutting down', 'b failed E_GATEWAY_NETWORK: POST /function/b.dev failed: boom']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
