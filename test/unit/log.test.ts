import { describe, expect, it } from 'vitest';
import { createLogger, toConsoleLine } from '../../src/log.ts';

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

  it('should pass unparsable lines through unchanged', () => {
    expect(toConsoleLine('plain\n')).toBe('plain\n');
  });
});
