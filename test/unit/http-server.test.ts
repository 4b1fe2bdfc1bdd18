import { connect, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, textReply, type Reply, type StatusSource } from '../../src/http/server.ts';
import { captureLogs } from '../helpers/logs.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

function source(overrides: Partial<StatusSource> = {}): StatusSource {
  return {
    liveness: () => undefined,
    notReadyReason: () => undefined,
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', body: 'm 1\n' }),
    schedules: () => Promise.resolve<Reply>({ status: 200, contentType: 'application/json', body: '{}\n' }),
    ...overrides,
  };
}

async function serve(s: StatusSource) {
  const logs = captureLogs();
  const server = await startHttpServer(0, s, logs.logger);
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, method = 'GET') => {
    const res = await fetch(`${base}${path}`, { method });
    return { status: res.status, body: await res.text() };
  };
  return { logs, get };
}

describe('http server', () => {
  it('should answer a route that throws synchronously with a 500 and one log line, and keep serving', async () => {
    const { logs, get } = await serve(
      source({
        schedules: () => {
          throw new TypeError("Cannot read properties of undefined (reading 'next')");
        },
      }),
    );
    expect(await get('/schedules')).toEqual({ status: 500, body: "internal error serving /schedules; the connector's log has the details\n" });
    expect(logs.named('HTTP request failed')).toEqual([
      { level: 'error', msg: 'HTTP request failed', path: '/schedules', error: "Cannot read properties of undefined (reading 'next')" },
    ]);
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
  });

  it('should answer a route that rejects with a 500 and one log line', async () => {
    const { logs, get } = await serve(source({ metrics: () => Promise.reject(new Error('registry broke')) }));
    expect((await get('/metrics')).status).toBe(500);
    expect(logs.named('HTTP request failed').map((l) => l.error)).toEqual(['registry broke']);
  });

  it('should fail /healthz with the reason while the process makes no progress', async () => {
    let reason: string | undefined = 'discovery has made no progress for 2m0s beyond its plan';
    const { get } = await serve(source({ liveness: () => reason }));
    expect(await get('/healthz')).toEqual({ status: 503, body: 'discovery has made no progress for 2m0s beyond its plan\n' });
    reason = undefined;
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
  });

  it('should pass the query to /schedules and send its reply as it is', async () => {
    const seen: string[] = [];
    const { get } = await serve(
      source({
        schedules: (params) => {
          seen.push(params.toString());
          return Promise.resolve(textReply(400, 'limit must be a whole number from 1 to 1000, found "0"'));
        },
      }),
    );
    expect(await get('/schedules?namespace=dev&limit=0')).toEqual({ status: 400, body: 'limit must be a whole number from 1 to 1000, found "0"\n' });
    expect(seen).toEqual(['namespace=dev&limit=0']);
  });

  it('should answer a request target that is no URL with 400, and keep serving', async () => {
    const { get } = await serve(source());
    const port = (servers.at(-1)?.address() as AddressInfo).port;
    for (const target of ['http://[', 'http://a:99999/healthz']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
  });

  it('should send the headers a route asks for', async () => {
    await serve(source({ schedules: () => Promise.resolve({ ...textReply(503, 'busy'), headers: { 'retry-after': '1' } }) }));
    const port = (servers.at(-1)?.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/schedules`);
    expect([res.status, res.headers.get('retry-after'), res.headers.get('content-type'), await res.text()]).toEqual([503, '1', 'text/plain; charset=utf-8', 'busy\n']);
  });

  it('should refuse other methods and name the paths it has', async () => {
    const { get } = await serve(source());
    expect((await get('/healthz', 'POST')).status).toBe(405);
    expect(await get('/nope')).toEqual({ status: 404, body: 'not found: try /healthz, /readyz, /metrics or /schedules\n' });
    expect(await get('/readyz', 'HEAD')).toEqual({ status: 200, body: '' });
  });
});
