import { describe, expect, it } from 'vitest';
import { createLogger, redact, toConsoleLine } from '../../src/log.ts';

function capture(encoding: 'console' | 'json', debug = false): { lines: string[]; log: ReturnType<typeof createLogger>['logger'] } {
  const lines: string[] = [];
  const { logger } = createLogger({ encoding, debug }, { write: (l) => lines.push(l) });
  return { lines, log: logger };
}

describe('log encodings', () => {
  it('should write json lines with msg, a level label and named fields', () => {
    const { lines, log } = capture('json');
    log.info({ function: 'nodeinfo.dev', schedule: '* * * * *' }, 'Added');
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', msg: 'Added', function: 'nodeinfo.dev', schedule: '* * * * *' });
    expect(typeof entry.time).toBe('string');
  });

  it('should write one readable console line per event', () => {
    const { lines, log } = capture('console');
    log.warn({ function: 'f.dev', status: 500 }, 'Response');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\twarn\tResponse\t\{"function":"f.dev","status":500\}\n$/);
  });

  it('should hide debug lines unless debug is on', () => {
    const quiet = capture('json');
    quiet.log.debug('x');
    const loud = capture('json', true);
    loud.log.debug('x');
    expect([quiet.lines.length, loud.lines.length]).toEqual([0, 1]);
  });

  it('should redact secret-looking fields', () => {
    const { lines, log } = capture('json');
    log.info({ authorization: 'Bearer abc.def.ghi', token: 'abc', headers: { authorization: 'Basic x' } }, 'oops');
    expect(lines[0]).not.toMatch(/abc|Basic x/);
  });

  it('should redact secret-named fields and token-shaped text at any depth, in both encodings', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    for (const encoding of ['json', 'console'] as const) {
      const { lines, log } = capture(encoding);
      log.warn(
        {
          request: { headers: { Authorization: `Bearer ${jwt}`, 'x-api-key': 'visible' }, body: { subject_token: 'hunter2', nested: [{ password: 'hunter3' }] } },
          error: `the proxy echoed: authorization: Bearer ${jwt} and Basic YWRtaW46cHc=`,
          deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 'hunter4' } } } } } } } } },
          kept: 'nodeinfo.dev',
        },
        'Discovery failed',
      );
      const line = lines[0] ?? '';
      for (const secret of [jwt, 'hunter2', 'hunter3', 'hunter4', 'YWRtaW46cHc=']) expect(line).not.toContain(secret);
      expect(line).toContain('nodeinfo.dev');
      expect(line).toContain('visible');
      expect(line).toContain('the proxy echoed: authorization: [REDACTED] and [REDACTED]');
    }
  });

  it('should leave a line without secrets as it is, without copying it', () => {
    const fields = { function: 'nodeinfo.dev', schedule: '*/5 * * * *', scheduled: '2026-11-23T13:42:05.000Z', nested: { basicAuth: false } };
    expect(redact(fields)).toBe(fields);
  });

  it('should pass unparsable lines through unchanged', () => {
    expect(toConsoleLine('plain\n')).toBe('plain\n');
  });
});
