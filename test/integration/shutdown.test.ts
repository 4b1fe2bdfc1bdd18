/**
 * SIGTERM ends the process in time whatever its stdout does: the issue was `cron-connector 2>&1 |
 * head -3`, where the reader goes away and a log flush that retried EPIPE never returned.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CONNECTOR_ENTRY } from '../support/connector.ts';
import { cronFunction } from '../support/gateway.ts';
import { world } from '../helpers/fixture.ts';

describe('shutdown', () => {
  it('should exit 0 soon after SIGTERM when nobody reads its stdout any more', async () => {
    const w = await world();
    // a hundred functions every second: lines keep coming, so some are buffered when stdout goes
    w.gateway.setFunctions('dev', Array.from({ length: 100 }, (_, i) => cronFunction(`tick-${i}`, '* * * * * *')));
    const child = spawn(process.execPath, [CONNECTOR_ENTRY], {
      env: { PATH: process.env['PATH'] ?? '', ...w.env, log_encoding: 'console', debug: 'true', http_port: '0', rebuild_interval: '1s', shutdown_timeout: '2s' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // like `| head -3`: read three lines, then go away
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.split('\n').length > 3) resolve();
      });
    });
    child.stdout.destroy();
    await w.gateway.waitFor(() => w.gateway.invocations.length >= 200, 10_000, 'invocations after stdout went away');
    const signalled = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await exited;
    clearTimeout(timer);
    // shutdown_timeout (2 s) + the grace (5 s) bound it; far less in practice
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(Date.now() - signalled).toBeLessThan(7_000 + 2_000);
  });
});
