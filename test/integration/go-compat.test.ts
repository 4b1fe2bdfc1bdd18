/**
 * Functions annotated for the Go openfaas/cron-connector, as its users deploy them, scheduled by
 * the real built connector against the gateway emulator (docs/migrating.md).
 */
import { describe, expect, it } from 'vitest';
import { cronFunction } from '../support/gateway.ts';
import { callsOf, is, world } from '../helpers/fixture.ts';

describe('drop-in for the Go connector\'s annotations', () => {
  it('should invoke async: "true" through /async-function/, @every 2s on even seconds since the epoch, and honour CRON_TZ=', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [
      cronFunction('queued', '* * * * * *', { async: 'true' }),
      cronFunction('direct', '* * * * * *', { async: 'false', 'com.openfaas.cron.async': 'true' }),
      cronFunction('every2', '@every 2s'),
      cronFunction('kolkata', 'CRON_TZ=Asia/Kolkata * * * * * *'),
      cronFunction('morning', 'CRON_TZ=Asia/Kolkata 30 5 * * *'),
    ]);
    const c = await w.start();
    await c.waitForLog(is('Discovery complete'), 10_000, 'the first pass');
    expect(c.countLogs(is('Cannot schedule function'))).toBe(0);
    // 05:30 in Kolkata (UTC+05:30) is midnight UTC
    const morning = c.logs.find(is('Added', { function: 'morning.dev' }));
    expect(morning?.next).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT00:00:00\.000Z$/));
    expect(morning?.timezone).toBe('Asia/Kolkata');
    await w.gateway.waitFor(() => callsOf(w.gateway, 'every2', 'dev').length >= 3, 10_000, 'three @every 2s slots');
    const queued = callsOf(w.gateway, 'queued', 'dev');
    expect(queued.length).toBeGreaterThan(0);
    expect(queued.every((i) => i.kind === 'async' && i.path === '/async-function/queued.dev')).toBe(true);
    // com.openfaas.cron.async wins over async
    expect(callsOf(w.gateway, 'direct', 'dev').every((i) => i.kind === 'async')).toBe(true);
    const every2 = callsOf(w.gateway, 'every2', 'dev').map((i) => Date.parse(i.headers['x-cron-scheduled-time'] ?? ''));
    for (const t of every2) expect(t % 2_000).toBe(0);
    expect(every2.slice(1).map((t, i) => t - (every2[i] ?? 0))).toEqual(every2.slice(1).map(() => 2_000));
    expect(callsOf(w.gateway, 'kolkata', 'dev').length).toBeGreaterThanOrEqual(3);
  });

  it('should report an async value the Go connector would silently read as false', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('typo', '* * * * * *', { async: 'yes please' })]);
    const c = await w.start();
    const refused = await c.waitForLog(is('Cannot schedule function', { function: 'typo.dev' }), 10_000, 'the refusal');
    expect(refused.reason).toEqual(expect.stringContaining('async'));
  });
});
