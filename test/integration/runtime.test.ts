import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, runtimeProblem } from '../../src/runtime.ts';
import { startConnector, stopAllConnectors } from '../support/connector.ts';

const PRETEND_NODE_20 = fileURLToPath(new URL('../support/fixtures/pretend-node-20.ts', import.meta.url));

afterEach(stopAllConnectors);

describe('runtime check', () => {
  it('should accept Node.js 24 and later, and name the version it needs and the one it found otherwise', () => {
    expect(runtimeProblem('24.0.0')).toBeUndefined();
    expect(runtimeProblem('26.1.0')).toBeUndefined();
    expect(runtimeProblem('20.20.2')).toBe(
      'cron-connector needs Node.js 24 or newer, found 20.20.2: run it with Node.js 24 LTS (the container image ships it)',
    );
    expect(runtimeProblem('22.19.0')).toMatch(/^cron-connector needs Node.js 24 or newer, found 22\.19\.0/);
    expect(runtimeProblem('garbage')).toMatch(/found garbage/);
  });

  it('should require what package.json engines promises', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
  });

  it.each([[['--version']], [['doctor']], [['next', '* * * * *']], [[]]])(
    'should print one line and exit 1 on Node.js 20 for %j, before loading anything that fails there',
    async (args) => {
      const connector = await startConnector({ gateway_url: 'http://127.0.0.1:9' }, { args, nodeArgs: ['--import', PRETEND_NODE_20] });
      const { code } = await connector.exited;
      expect(code).toBe(1);
      expect(connector.stdout).toBe('');
      expect(connector.stderr).toBe(
        'cron-connector needs Node.js 24 or newer, found 20.20.2: run it with Node.js 24 LTS (the container image ships it)\n',
      );
    },
  );
});
