import { describe, expect, it } from 'vitest';
import { cronFunction } from '../support/gateway.ts';
import { callsOf, is, world } from '../helpers/fixture.ts';

describe('IAM scoping', () => {
  it('should schedule and invoke only the functions of the namespaces its Policy allows', async () => {
    const w = await world({ iam: { resource: ['dev:*'] } });
    w.gateway.setFunctions('dev', [cronFunction('nodeinfo', '* * * * * *')]);
    w.gateway.setFunctions('staging', [cronFunction('nodeinfo', '* * * * * *')]);
    const connector = await w.start();

    const added = await connector.waitForLog(is('Added', { function: 'nodeinfo.dev' }), 10_000, 'Added nodeinfo.dev');
    expect(added).toMatchObject({ schedule: '* * * * * *' });
    expect(Date.parse(String(added.next))).toBeGreaterThan(Date.now() - 2000);
    await w.gateway.waitFor(() => callsOf(w.gateway, 'nodeinfo', 'dev').length >= 2, 10_000, 'two invocations in dev');
    await connector.waitForLog(is('Response', { function: 'nodeinfo.dev', status: 200 }));

    expect(callsOf(w.gateway, 'nodeinfo', 'staging')).toHaveLength(0);
    expect(connector.countLogs((l) => String(l.function).endsWith('.staging'))).toBe(0);
    const namespacesSeen = w.gateway.requests.filter((r) => r.path === '/system/functions').map((r) => r.query);
    expect(new Set(namespacesSeen)).toEqual(new Set(['namespace=dev']));
  });

  it('should send the documented headers, the nominal time, and never arrive early', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('headers', '* * * * * *', { topic: 'kafka, cron-function' })]);
    const connector = await w.start({ content_type: 'application/json' });
    await w.gateway.waitFor(() => callsOf(w.gateway, 'headers', 'dev').length >= 3, 10_000, 'three invocations');
    await connector.waitForLog(is('Response', { function: 'headers.dev' }));

    const calls = callsOf(w.gateway, 'headers', 'dev');
    for (const call of calls) {
      expect(call.path).toBe('/function/headers.dev');
      expect(call.headers).toMatchObject({
        'x-connector': 'cron-connector',
        'x-topic': 'kafka, cron-function',
        'content-type': 'application/json',
      });
      expect(call.headers['user-agent']).toMatch(/^openfaas-cron-connector\/\d+\.\d+\.\d+/);
      expect(call.headers.authorization).toBeUndefined();
      const nominal = Date.parse(call.headers['x-cron-scheduled-time'] ?? '');
      expect(call.headers['x-cron-scheduled-time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(nominal % 1000).toBe(0);
      expect(call.at).toBeGreaterThanOrEqual(nominal);
      expect(call.at - nominal).toBeLessThan(500);
    }
    const slots = calls.map((c) => c.headers['x-cron-scheduled-time']);
    expect(new Set(slots).size).toBe(slots.length);
  });

  it('should log what it discovered, with the policies its token carries', async () => {
    const w = await world({ iam: { resource: ['dev:*'] } });
    w.gateway.setFunctions('dev', [cronFunction('a', '0 0 1 1 *')]);
    const connector = await w.start();
    const token = await connector.waitForLog(is('Access token obtained'));
    expect(token).toMatchObject({ subject: w.iam.subject, policies: ['cron-connector'] });
    const done = await connector.waitForLog(is('Discovery complete'));
    expect(done).toMatchObject({ namespaces: 1, functions: 1, schedules: 1 });
  });
});
