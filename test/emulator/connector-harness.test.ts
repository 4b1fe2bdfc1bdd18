import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { logMatching, runConnector, startConnector, stopAllConnectors } from '../support/connector.ts';
import type { ConnectorProcess } from '../support/connector.ts';

const entry = fileURLToPath(new URL('./fixtures/fake-connector.ts', import.meta.url));

function startFake(env: Record<string, string> = {}, args: string[] = []): Promise<ConnectorProcess> {
  return startConnector(env, { entry, args });
}

describe('connector process harness', () => {
  afterEach(() => stopAllConnectors());

  it('gives the child only PATH, log_encoding=json and the given env', async () => {
    const connector = await startFake({ gateway_url: 'http://127.0.0.1:1' });
    const config = await connector.waitForLog(logMatching('Config'));
    expect(config).toMatchObject({ gateway_url: 'http://127.0.0.1:1', log_encoding: 'json', home: null });
  });

  it('lets the env override log_encoding', async () => {
    const connector = await startFake({ log_encoding: 'console' });
    expect(await connector.waitForLog(logMatching('Config'))).toMatchObject({ log_encoding: 'console' });
  });

  it('keeps every line but parses only JSON objects from stdout as logs', async () => {
    const connector = await startFake();
    await connector.waitForLog(logMatching('Tick', { n: 1 }));
    await connector.stop();

    expect(connector.lines).toEqual(expect.arrayContaining(['a plain text line', '[1,2,3]', 'a warning on stderr']));
    expect(connector.logs.every((line) => typeof line['msg'] === 'string')).toBe(true);
    expect(connector.countLogs(logMatching('Config'))).toBe(1);
  });

  it('resolves waitForLog with lines already received', async () => {
    const connector = await startFake();
    const first = await connector.waitForLog(logMatching('Tick', { n: 2 }));
    expect(await connector.waitForLog(logMatching('Tick', { n: 2 }))).toBe(first);
  });

  it('times out naming what it waited for, with the last lines of output', async () => {
    const connector = await startFake();
    await connector.waitForLog(logMatching('Tick'));
    const waiting = connector.waitForLog(logMatching('Never'), 150, 'the Never log');
    await expect(waiting).rejects.toThrow(/Timed out after 150 ms waiting for the Never log\n--- last 30 lines ---\n[\s\S]*"msg":"Tick"/);
  });

  it('fails a wait as soon as the process exits', async () => {
    const connector = await startFake({}, ['--exit-early']);
    const started = Date.now();
    await expect(connector.waitForLog(logMatching('Tick'), 5_000)).rejects.toThrow(/Connector exited \(code 3, signal null\)[\s\S]*a warning on stderr/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops with SIGTERM and reports the exit', async () => {
    const connector = await startFake();
    await connector.waitForLog(logMatching('Tick'));
    expect(await connector.stop()).toEqual({ code: 0, signal: null });
    expect(connector.countLogs(logMatching('Shutting down'))).toBe(1);
  });

  it('escalates to SIGKILL when the process ignores the signal', async () => {
    const connector = await startFake({}, ['--ignore-sigterm']);
    await connector.waitForLog(logMatching('Tick'));
    expect(await connector.stop('SIGTERM', 200)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(connector.countLogs(logMatching('Ignoring SIGTERM'))).toBe(1);
  });

  it('stops every running connector', async () => {
    const connectors = await Promise.all([startFake(), startFake()]);
    await Promise.all(connectors.map((connector) => connector.waitForLog(logMatching('Tick'))));
    await stopAllConnectors();
    for (const connector of connectors) expect(await connector.exited).toEqual({ code: 0, signal: null });
  });

  it('runs short commands to completion', async () => {
    const result = await runConnector({}, ['--version'], 5_000, { entry });
    expect(result).toEqual({ code: 0, stdout: 'cron-connector 0.0.0-fake\n', stderr: '' });
  });

  it('explains a missing build', async () => {
    await expect(startConnector({}, { entry: '/nonexistent/dist/main.js' })).rejects.toThrow(/does not exist; run `npm run build` first/);
  });
});
