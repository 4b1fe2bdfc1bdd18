/** `cron-connector next`: the built binary, deterministic with --from. */
import { describe, expect, it } from 'vitest';
import { runConnector } from '../support/connector.ts';

describe('cron-connector next', () => {
  it('should print the Europe/London spring-forward and fall-back fire times', async () => {
    const spring = await runConnector({}, ['next', '30 1 * * *', '--tz', 'Europe/London', '--from', '2026-03-28T12:00:00Z', '-n', '2']);
    expect([spring.code, spring.stderr]).toEqual([0, '']);
    expect(spring.stdout).toBe(
      '2026-03-29 02:00:00 +01:00 (Europe/London)  2026-03-29T01:00:00.000Z\n' +
        '2026-03-30 01:30:00 +01:00 (Europe/London)  2026-03-30T00:30:00.000Z\n',
    );
    const fall = await runConnector({}, ['next', '30 1 * * *', '--tz', 'Europe/London', '--from', '2026-10-24T12:00:00Z', '-n', '2', '--json']);
    expect(fall.code).toBe(0);
    expect(JSON.parse(fall.stdout)).toEqual({
      ok: true,
      expressions: ['30 1 * * *'],
      timezone: 'Europe/London',
      from: '2026-10-24T12:00:00.000Z',
      count: 2,
      times: [
        { utc: '2026-10-25T00:30:00.000Z', local: '2026-10-25 01:30:00', offset: '+01:00', expressions: ['30 1 * * *'] },
        { utc: '2026-10-26T01:30:00.000Z', local: '2026-10-26 01:30:00', offset: '+00:00', expressions: ['30 1 * * *'] },
      ],
    });
  });

  it('should exit 1 with the reason for a bad zone, and 2 for a usage error', async () => {
    const zone = await runConnector({}, ['next', '0 9 * * *', '--tz', 'Europe/Londres']);
    expect(zone.code).toBe(1);
    expect(zone.stdout).toBe('');
    expect(zone.stderr).toContain('unknown time zone "Europe/Londres"');
    const usage = await runConnector({}, ['next', '0 9 * * *', '-n', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('-n must be a whole number from 1 to 1000');
  });

  it('should write all of a large answer through a pipe before exiting', async () => {
    const r = await runConnector({}, ['next', '* * * * * *', '-n', '1000', '--json', '--from', '2026-01-01T00:00:00Z']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { times: Array<{ utc: string }> };
    expect(doc.times).toHaveLength(1000);
    expect(doc.times.at(-1)?.utc).toBe('2026-01-01T00:16:40.000Z');
  });

  it('should be listed in --help', async () => {
    const help = await runConnector({}, ['--help']);
    expect(help.stdout).toContain('cron-connector next');
    expect(help.stdout).toContain('cron-connector doctor');
  });
});
