import { describe, expect, it } from 'vitest';
import { cronFunction } from '../support/gateway.ts';
import { callsOf, is, world } from '../helpers/fixture.ts';

describe('discovery', () => {
  it('should add, change and remove schedules as functions change, without doubling unchanged ones', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('keep', '* * * * * *'), cronFunction('change', '0 0 1 1 *'), cronFunction('drop', '0 0 1 1 *')]);
    const connector = await w.start({ rebuild_interval: '1s' });
    await connector.waitForLog(is('Added', { function: 'drop.dev' }));

    w.gateway.setFunctions('dev', [
      cronFunction('keep', '* * * * * *'),
      cronFunction('change', '* * * * * *'),
      cronFunction('fresh', '* * * * * *'),
    ]);
    const removed = await connector.waitForLog(is('Removed', { function: 'drop.dev' }));
    expect(removed).toMatchObject({ schedule: '0 0 1 1 *', reason: 'function deleted or no longer annotated' });
    expect(await connector.waitForLog(is('Removed', { function: 'change.dev' }))).toMatchObject({ reason: 'schedule changed' });
    await connector.waitForLog(is('Added', { function: 'change.dev', schedule: '* * * * * *' }));
    await connector.waitForLog(is('Added', { function: 'fresh.dev' }));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'change', 'dev').length >= 2, 5000, 'the changed schedule to fire');

    expect(connector.countLogs(is('Added', { function: 'keep.dev' }))).toBe(1);
    const keepSlots = callsOf(w.gateway, 'keep', 'dev').map((c) => c.headers['x-cron-scheduled-time']);
    expect(new Set(keepSlots).size).toBe(keepSlots.length);
    expect(callsOf(w.gateway, 'drop', 'dev')).toHaveLength(0);
  });

  it('should unschedule every function of a namespace that disappears or becomes forbidden', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('a', '0 0 1 1 *')]);
    w.gateway.setFunctions('prod', [cronFunction('b', '0 0 1 1 *')]);
    const connector = await w.start({ rebuild_interval: '1s' });
    await connector.waitForLog(is('Added', { function: 'b.prod' }));
    await connector.waitForLog(is('Added', { function: 'a.dev' }));

    w.gateway.removeNamespace('prod');
    expect(await connector.waitForLog(is('Removed', { function: 'b.prod' }))).toMatchObject({ reason: 'namespace no longer listed' });

    // the Policy keeps Namespace:List everywhere but loses Function:List on dev
    w.gateway.setPolicy('cron-connector', {
      statement: [
        { sid: 'ns', effect: 'Allow', action: ['Namespace:List'], resource: ['*'] },
        { sid: 'fn', effect: 'Allow', action: ['Function:List'], resource: ['staging:*'] },
      ],
    });
    expect(await connector.waitForLog(is('Removed', { function: 'a.dev' }))).toMatchObject({ reason: 'namespace forbidden (403)' });
    await connector.waitForLog(is('Namespace skipped', { namespace: 'dev', reason: 'forbidden (403)' }));
    const passes = w.gateway.requests.filter((r) => r.path === '/system/namespaces').length;
    await w.gateway.waitFor(() => w.gateway.requests.filter((r) => r.path === '/system/namespaces').length >= passes + 3, 5000, 'three more passes');
    expect(connector.countLogs(is('Namespace skipped', { namespace: 'dev' }))).toBe(1);
  });

  it('should fire several schedules of one function, each at its own slots', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('multi', '*/2 * * * * *; 1-59/2 * * * * *; 0 0 1 1 *')]);
    const connector = await w.start();
    await w.gateway.waitFor(() => callsOf(w.gateway, 'multi', 'dev').length >= 4, 8000, 'four invocations');
    expect(connector.countLogs(is('Added', { function: 'multi.dev' }))).toBe(3);
    const seconds = callsOf(w.gateway, 'multi', 'dev').map((c) => new Date(c.headers['x-cron-scheduled-time'] ?? '').getUTCSeconds());
    expect(seconds.some((s) => s % 2 === 0)).toBe(true);
    expect(seconds.some((s) => s % 2 === 1)).toBe(true);
  });

  it('should evaluate schedules in the function zone, else in the configured default', async () => {
    const w = await world();
    const hour = (zone: string): number => Number(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(new Date()));
    const inTokyo = `* * ${(hour('Asia/Tokyo') + 1) % 24} * * *`;
    w.gateway.setFunctions('dev', [
      cronFunction('tokyo', inTokyo, { 'com.openfaas.cron.timezone': 'Asia/Tokyo' }),
      cronFunction('dflt', `* * ${(hour('America/New_York') + 1) % 24} * * *`),
    ]);
    const connector = await w.start({ timezone: 'America/New_York' });
    const tokyo = await connector.waitForLog(is('Added', { function: 'tokyo.dev' }));
    const dflt = await connector.waitForLog(is('Added', { function: 'dflt.dev' }));
    expect(tokyo.timezone).toBe('Asia/Tokyo');
    expect(dflt.timezone).toBe('America/New_York');
    // the next slot is the start of the next local hour in each zone
    expect(new Date(String(tokyo.next)).getUTCMinutes()).toBe(0);
    expect(Date.parse(String(tokyo.next)) - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(Date.parse(String(dflt.next)) - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it('should invoke asynchronously when asked globally or per function, and accept 202', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [
      cronFunction('byglobal', '* * * * * *'),
      cronFunction('optout', '* * * * * *', { 'com.openfaas.cron.async': 'false' }),
    ]);
    const connector = await w.start({ asynchronous_invocation: 'true' });
    await w.gateway.waitFor(() => callsOf(w.gateway, 'optout', 'dev').length >= 1 && callsOf(w.gateway, 'byglobal', 'dev').length >= 1, 5000, 'both');
    expect(callsOf(w.gateway, 'byglobal', 'dev')[0]?.kind).toBe('async');
    expect(callsOf(w.gateway, 'byglobal', 'dev')[0]?.path).toBe('/async-function/byglobal.dev');
    expect(callsOf(w.gateway, 'optout', 'dev')[0]?.kind).toBe('sync');
    const response = await connector.waitForLog(is('Response', { function: 'byglobal.dev' }));
    expect(response).toMatchObject({ status: 202, level: 'info' });
    expect(typeof response.callId).toBe('string');
  });

  it('should warn once about each function it cannot schedule and schedule the rest', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [
      cronFunction('good', '* * * * * *'),
      cronFunction('typo', '*/5 * * *'),
      cronFunction('zone', '* * * * *', { 'com.openfaas.cron.timezone': 'Europe/Atlantis' }),
      { name: 'nosched', image: 'x', annotations: { topic: 'cron-function' } },
    ]);
    const connector = await w.start({ rebuild_interval: '1s' });
    const typo = await connector.waitForLog(is('Cannot schedule function', { function: 'typo.dev' }));
    expect(typo).toMatchObject({ level: 'warn' });
    expect(String(typo.reason)).toContain('expected 5 fields');
    await connector.waitForLog(is('Cannot schedule function', { function: 'zone.dev' }));
    await connector.waitForLog(is('Cannot schedule function', { function: 'nosched.dev' }));
    await w.gateway.waitFor(() => w.gateway.requests.filter((r) => r.path === '/system/namespaces').length >= 5, 5000, 'five passes');
    expect(connector.countLogs(is('Cannot schedule function'))).toBe(3);
    await w.gateway.waitFor(() => callsOf(w.gateway, 'good', 'dev').length >= 1, 5000, 'the good function to fire');

    w.gateway.setFunctions('dev', [cronFunction('good', '* * * * * *'), cronFunction('typo', '*/5 * * * *')]);
    await connector.waitForLog(is('Added', { function: 'typo.dev' }));
  });
});
