import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { cronFunction } from '../support/gateway.ts';
import { freePort } from '../helpers/ports.ts';
import { callsOf, is, world, type World } from '../helpers/fixture.ts';

const attemptsTo = (w: World, path: string): Array<Record<string, string>> =>
  w.gateway.requests.filter((r) => r.path === path).map((r) => r.headers);

// The delivery policy's rules (backoff, Retry-After, the next-slot bound, forbid, max_inflight,
// warm-up rules, drain) are tested to the millisecond in-process (test/unit/invoker.test.ts); these
// tests run the built connector for the wiring: headers, the warm-up request, jwt_auth tokens.
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

  it('should explain a Policy without Function:Invoke, asking again at most once a slot for the namespace', async () => {
    const w = await world();
    const names = ['secure', 'nightly', 'report'];
    w.gateway.setFunctions('dev', names.map((name) => ({ ...cronFunction(name, '* * * * * *'), envVars: { jwt_auth: 'true' } })));
    const connector = await w.start({ jwt_auth: 'true' });
    const failed = await connector.waitForLog(is('Invocation failed', { function: 'secure.dev' }));
    expect(failed.hint).toBe(
      "the IAM Policy bound to this connector does not grant Function:Invoke on the function's namespace; add Function:Invoke on that namespace to the Policy (helm: jwtAuth=true adds it on iam.resource)",
    );
    await w.gateway.waitFor(() => connector.countLogs(is('Invocation failed')) >= 4 * names.length, 10_000, 'four slots of failures');
    const slots = Math.floor(connector.countLogs(is('Invocation failed')) / names.length);
    const refused = w.gateway.exchanges.filter((e) => !e.ok).length;
    // the first slot asks for each function; after that the refusal is remembered for dev, and
    // asked again after 500 ms, 1 s, 2 s, ...: never more than once a slot
    expect(refused).toBeGreaterThanOrEqual(names.length);
    expect(refused).toBeLessThanOrEqual(names.length + slots);
    expect(w.gateway.invocations).toEqual([]);
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
