import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { cronFunction } from '../support/gateway.ts';
import { freePort } from '../helpers/ports.ts';
import { callsOf, is, world, type World } from '../helpers/fixture.ts';

const attemptsTo = (w: World, path: string): Array<Record<string, string>> =>
  w.gateway.requests.filter((r) => r.path === path).map((r) => r.headers);

describe('connection warm-up', () => {
  const health = (w: World) => w.gateway.requests.filter((r) => r.path === '/healthz');
  const calls = (w: World, path: string) => w.gateway.requests.filter((r) => r.path === path);

  it('should open a connection with GET /healthz ahead of a slot that follows an idle spell, without credentials', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('idle', '*/5 * * * * *')]);
    const connector = await w.start();
    await connector.waitForLog(is('Response', { function: 'idle.dev' }), 10_000);
    const [first] = calls(w, '/function/idle.dev');
    const before = health(w).filter((r) => r.at < (first?.at ?? 0));
    expect(before).toHaveLength(1);
    const [warm] = before;
    expect(warm).toMatchObject({ method: 'GET', status: 200 });
    expect((first?.at ?? 0) - (warm?.at ?? 0)).toBeLessThanOrEqual(1500);
    expect(warm?.headers.authorization).toBeUndefined();
  });

  it('should not warm up while invocations keep the connection busy', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('busy', '* * * * * *')]);
    const connector = await w.start();
    await connector.waitForLog(is('Response', { function: 'busy.dev' }), 10_000);
    const start = health(w).length;
    await w.gateway.waitFor(() => calls(w, '/function/busy.dev').length >= 4, 10_000, 'three more slots');
    expect(start).toBeLessThanOrEqual(1);
    expect(health(w)).toHaveLength(start);
  });
});

describe('delivery policy', () => {
  it('should retry 503 with the same execution id and a growing attempt number', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('retry', '*/5 * * * * *')]);
    const connector = await w.start();
    await connector.waitForLog(is('Added', { function: 'retry.dev' }));
    w.gateway.setFault('invoke', { kind: 'status', status: 503, body: 'no endpoints', times: 2 });
    const response = await connector.waitForLog(is('Response', { function: 'retry.dev' }), 10_000);
    expect(response).toMatchObject({ status: 200, attempts: 3, level: 'info' });
    expect(connector.countLogs(is('Retrying', { function: 'retry.dev' }))).toBe(2);
    const attempts = attemptsTo(w, '/function/retry.dev').slice(0, 3);
    expect(attempts.map((h) => h['x-cron-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(attempts.map((h) => h['x-cron-execution-id'])).size).toBe(1);
    expect(new Set(attempts.map((h) => h['x-cron-scheduled-time'])).size).toBe(1);
  });

  it('should wait as long as Retry-After asks before retrying a 429', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('throttled', '*/5 * * * * *')]);
    const connector = await w.start();
    await connector.waitForLog(is('Added', { function: 'throttled.dev' }));
    w.gateway.setFault('invoke', { kind: 'respond', response: { kind: 'body', status: 429, body: 'slow down', headers: { 'retry-after': '2' } }, times: 1 });
    await connector.waitForLog(is('Response', { function: 'throttled.dev', status: 200, attempts: 2 }), 10_000);
    const [first, second] = w.gateway.requests.filter((r) => r.path === '/function/throttled.dev');
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(second?.headers['x-cron-attempt']).toBe('2');
  });

  it('should not retry other 4xx answers, nor when the function opts out', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [
      cronFunction('bad', '* * * * * *'),
      cronFunction('once', '* * * * * *', { 'com.openfaas.cron.retries': '0' }),
    ]);
    w.gateway.setFunctionBehavior('dev', 'bad', { status: 400, body: 'bad input' });
    w.gateway.setFunctionBehavior('dev', 'once', { status: 503 });
    const connector = await w.start();
    await connector.waitForLog(is('Response', { function: 'bad.dev', status: 400 }));
    await connector.waitForLog(is('Response', { function: 'once.dev', status: 503 }));
    expect(connector.countLogs(is('Retrying'))).toBe(0);
    expect(attemptsTo(w, '/function/bad.dev').every((h) => h['x-cron-attempt'] === '1')).toBe(true);
  });

  it('should never retry into the next slot', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('down', '* * * * * *', { 'com.openfaas.cron.retries': '10' })]);
    w.gateway.setFunctionBehavior('dev', 'down', { status: 502 });
    const connector = await w.start();
    await connector.waitForLog(is('Giving up retries', { function: 'down.dev' }), 10_000);
    await w.gateway.waitFor(() => attemptsTo(w, '/function/down.dev').length >= 6, 10_000, 'several slots');
    const bySlot = new Map<string, number[]>();
    for (const h of attemptsTo(w, '/function/down.dev')) {
      const slot = h['x-cron-scheduled-time'] ?? '';
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), Number(h['x-cron-attempt'])]);
    }
    expect(bySlot.size).toBeGreaterThanOrEqual(2);
    for (const attempts of bySlot.values()) expect(Math.max(...attempts)).toBeLessThanOrEqual(3);
    const ids = attemptsTo(w, '/function/down.dev').map((h) => h['x-cron-execution-id']);
    expect(new Set(ids).size).toBe(bySlot.size);
  });

  it('should skip a slot while the previous call runs when concurrency is forbid', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('single', '* * * * * *', { 'com.openfaas.cron.concurrency': 'forbid' })]);
    w.gateway.setFunctionBehavior('dev', 'single', { delayMs: 2200 });
    const connector = await w.start();
    const skipped = await connector.waitForLog(is('Skipped', { function: 'single.dev' }), 6000);
    expect(String(skipped.reason)).toContain('concurrency=forbid');
    await w.gateway.waitFor(() => callsOf(w.gateway, 'single', 'dev').length >= 2, 8000, 'two calls');
    const starts = callsOf(w.gateway, 'single', 'dev').map((c) => c.at);
    expect((starts[1] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(2000);
  });
});

describe('jitter', () => {
  it('should delay each slot by the function\'s own offset, keep the nominal time in the header, and never be early', async () => {
    const { stableHash } = await import('../../src/schedule/annotations.ts');
    const offset = stableHash('spread.dev') % 800;
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('spread', '* * * * * *', { 'com.openfaas.cron.jitter': '800ms' })]);
    await w.start();
    await w.gateway.waitFor(() => callsOf(w.gateway, 'spread', 'dev').length >= 2, 6000, 'two calls');
    for (const call of callsOf(w.gateway, 'spread', 'dev')) {
      const nominal = Date.parse(call.headers['x-cron-scheduled-time'] ?? '');
      expect(nominal % 1000).toBe(0);
      expect(call.at).toBeGreaterThanOrEqual(nominal + offset);
      expect(call.at - nominal - offset).toBeLessThan(700);
    }
  });
});

describe('functions deployed with jwt_auth', () => {
  const protectedFn = { ...cronFunction('secure', '* * * * * *'), envVars: { jwt_auth: 'true' } };

  it('should explain the 401 when jwt_auth is off', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [protectedFn]);
    const connector = await w.start();
    const response = await connector.waitForLog(is('Response', { function: 'secure.dev' }));
    expect(response).toMatchObject({ status: 401, level: 'warn' });
    expect(String(response.hint)).toContain('jwt_auth=true');
  });

  it('should send a per-function token when jwt_auth is on and the Policy grants Function:Invoke', async () => {
    const w = await world();
    w.gateway.setPolicy('cron-connector', {
      statement: [{ sid: '1', effect: 'Allow', action: ['Function:List', 'Namespace:List', 'Function:Invoke'], resource: ['*'] }],
    });
    w.gateway.setFunctions('dev', [protectedFn]);
    const connector = await w.start({ jwt_auth: 'true' });
    await connector.waitForLog(is('Response', { function: 'secure.dev', status: 200 }));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'secure', 'dev').length >= 2, 5000, 'two calls');
    const [first, second] = callsOf(w.gateway, 'secure', 'dev');
    const token = (first?.headers.authorization ?? '').replace(/^Bearer /, '');
    expect(decodeJwt(token).aud).toBe('dev:secure');
    expect(second?.headers.authorization).toBe(first?.headers.authorization);
  });

  it('should explain a Policy without Function:Invoke', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [protectedFn]);
    const connector = await w.start({ jwt_auth: 'true' });
    const failed = await connector.waitForLog(is('Invocation failed', { function: 'secure.dev' }));
    expect(String(failed.hint)).toContain('Function:Invoke');
  });
});

describe('observability', () => {
  it('should expose Prometheus metrics and a /schedules document', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('seen', '* * * * * *'), cronFunction('wrong', 'nope')]);
    const port = await freePort();
    const connector = await w.start({ http_port: String(port) });
    await connector.waitForLog(is('Response', { function: 'seen.dev' }));
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/cron_connector_invocations_total\{function="seen",namespace="dev",code="200"\} [1-9]/);
    expect(metrics).toMatch(/cron_connector_scheduled_functions 1/);
    expect(metrics).toMatch(/cron_connector_rebuilds_total\{result="success"\} [1-9]/);
    expect(metrics).toMatch(/cron_connector_token_exchanges_total\{result="success"\} [1-9]/);
    expect(metrics).toMatch(/cron_connector_fire_lateness_seconds_bucket/);
    expect(metrics).toMatch(/cron_connector_invocation_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/process_resident_memory_bytes/);
    const doc = (await (await fetch(`http://127.0.0.1:${port}/schedules`)).json()) as {
      scheduled: Array<{ function: string; schedules: Array<{ next: string[] }>; last: { status: number } | null }>;
      rejected: Array<{ function: string; reason: string }>;
    };
    expect(doc.scheduled.map((s) => s.function)).toEqual(['seen.dev']);
    expect(doc.scheduled[0]?.schedules[0]?.next).toHaveLength(3);
    expect(doc.scheduled[0]?.last?.status).toBe(200);
    expect(doc.rejected).toEqual([{ function: 'wrong.dev', namespace: 'dev', reason: expect.stringContaining('invalid schedule') }]);
  });
});
