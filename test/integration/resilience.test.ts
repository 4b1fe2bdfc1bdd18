import { describe, expect, it } from 'vitest';
import { cronFunction, type Fault } from '../support/gateway.ts';
import { callsOf, is, world } from '../helpers/fixture.ts';

const listings = (w: Awaited<ReturnType<typeof world>>, path: string): number => w.gateway.requests.filter((r) => r.path === path).length;

describe('resilience', () => {
  // What the emulator's `garbage` fault answers, as the connector quotes it.
  const HTML = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
  it.each<[string, 'namespaces' | 'functions', Fault, Record<string, unknown>]>([
    [
      'the gateway drops connections',
      'namespaces',
      { kind: 'down' },
      // the emulator destroys the socket after reading the request: undici sees the close (a reset if it races)
      { code: 'E_GATEWAY_NETWORK', error: expect.stringMatching(/^GET \/system\/namespaces failed: (other side closed \(UND_ERR_SOCKET\)|.*ECONNRESET.*)$/) },
    ],
    [
      'the namespace listing answers 503',
      'namespaces',
      { kind: 'status', status: 503, body: 'upstream unavailable' },
      { code: 'E_GATEWAY_HTTP', error: 'GET /system/namespaces answered 503: upstream unavailable' },
    ],
    [
      'the namespace listing answers an HTML page',
      'namespaces',
      { kind: 'garbage' },
      { code: 'E_GATEWAY_RESPONSE', error: `/system/namespaces did not answer JSON: ${HTML}` },
    ],
    [
      'the namespace listing hangs',
      'namespaces',
      { kind: 'hang' },
      // the pass's deadline: rebuild_timeout (1s) less the millisecond boundary the pass may have crossed,
      // as src/gateway/http.ts writes it ("1000 ms" before it formatted durations, "1s" after)
      { code: 'E_GATEWAY_TIMEOUT', error: expect.stringMatching(/^GET \/system\/namespaces timed out after (1s|999ms)$/) },
    ],
    [
      'the function listing answers 500',
      'functions',
      { kind: 'status', status: 500 },
      { namespace: 'dev', keptFunctions: 1, error: 'GET /system/functions?namespace=dev answered 500: injected fault: 500' },
    ],
    [
      'the function listing answers garbage',
      'functions',
      { kind: 'garbage' },
      { namespace: 'dev', keptFunctions: 1, error: `/system/functions?namespace=dev did not answer JSON: ${HTML}` },
    ],
  ])('should keep firing existing schedules when %s, and log why', async (_label, route, fault, logged) => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', '* * * * * *')]);
    const connector = await w.start({ rebuild_interval: '1s', rebuild_timeout: '1s' });
    await connector.waitForLog(is('Added', { function: 'steady.dev' }));

    w.gateway.setFault(route, fault);
    const path = route === 'namespaces' ? '/system/namespaces' : '/system/functions';
    const before = listings(w, path);
    const expected = route === 'namespaces' ? 'Discovery failed, keeping current schedules' : 'Namespace unreadable, keeping its schedules';
    const warning = await connector.waitForLog(is(expected), 5000);
    expect(warning).toMatchObject({ level: 'warn', ...logged });
    await w.gateway.waitFor(() => listings(w, path) >= before + 2, 5000, 'two failing passes');
    const calls = callsOf(w.gateway, 'steady', 'dev').length;
    await w.gateway.waitFor(() => callsOf(w.gateway, 'steady', 'dev').length >= calls + 2, 5000, 'firing to go on');
    expect(connector.countLogs(is('Removed'))).toBe(0);

    w.gateway.clearFaults();
    w.gateway.setFunctions('dev', []);
    await connector.waitForLog(is('Removed', { function: 'steady.dev' }), 5000);
  });

  it('should log a non-2xx function answer as a warning and keep the schedule', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('flaky', '* * * * * *')]);
    w.gateway.setFunctionBehavior('dev', 'flaky', { status: 500, body: 'boom' });
    const connector = await w.start();
    const response = await connector.waitForLog(is('Response', { function: 'flaky.dev' }));
    expect(response).toMatchObject({ level: 'warn', status: 500, bytes: 4 });
    expect(response.hint).toBe("the function or the gateway failed (500); check the function's logs (faas-cli logs <function>)");
    w.gateway.setFunctionBehavior('dev', 'flaky', { status: 200 });
    await connector.waitForLog(is('Response', { function: 'flaky.dev', status: 200 }), 5000);
  });

  it('should give up a synchronous call at upstream_timeout and say so', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('slow', '* * * * * *')]);
    w.gateway.setFunctionBehavior('dev', 'slow', { delayMs: 5000 });
    const connector = await w.start({ upstream_timeout: '1s' });
    const failed = await connector.waitForLog(is('Invocation failed', { function: 'slow.dev' }), 5000);
    expect(failed).toMatchObject({ level: 'warn' });
    expect(failed.error).toBe('POST /function/slow.dev timed out after 1s');
    expect(failed.hint).toBe(
      "the function did not answer within 1s (upstream_timeout); it may still be running; check the function's logs (faas-cli logs <function>); raise upstream_timeout if it only needs longer, or invoke it asynchronously (com.openfaas.cron.async=true)",
    );
  });

  it('should wait, never drop, when more calls are due than max_inflight allows', async () => {
    const w = await world();
    const names = ['q1', 'q2', 'q3', 'q4'];
    w.gateway.setFunctions('dev', names.map((n) => cronFunction(n, '*/2 * * * * *')));
    for (const n of names) w.gateway.setFunctionBehavior('dev', n, { delayMs: 300 });
    const connector = await w.start({ max_inflight: '1' });
    await w.gateway.waitFor(() => names.every((n) => callsOf(w.gateway, n, 'dev').length >= 1), 8000, 'every function once');
    const first = names.map((n) => callsOf(w.gateway, n, 'dev')[0]?.at ?? 0).sort((a, b) => a - b);
    for (let i = 1; i < first.length; i++) expect((first[i] ?? 0) - (first[i - 1] ?? 0)).toBeGreaterThanOrEqual(250);
    expect(connector.countLogs(is('Invocation failed'))).toBe(0);
  });
});
