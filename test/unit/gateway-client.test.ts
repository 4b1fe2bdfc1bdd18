import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { noCredentials } from '../../src/auth/credentials.ts';
import { GatewayError } from '../../src/errors.ts';
import { GatewayClient } from '../../src/gateway/client.ts';

const servers: Server[] = [];
const agent = new Agent();
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A gateway that records requests and answers each with `answer` (or never, when it returns undefined). */
async function gateway(answer: (req: IncomingMessage) => number | undefined) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const status = answer(req);
    if (status !== undefined) res.writeHead(status).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new GatewayClient({ gatewayUrl: url, credentials: noCredentials, rest: agent, invoke: agent, contentType: 'text/plain' });
  return { seen, client, url };
}

const invocation = { name: 'nightly', namespace: 'dev', topic: 'cron-function', scheduledAt: Date.parse('2026-12-02T10:00:00Z'), attempt: 2, executionId: 'e-1' };

describe('gateway client invocations', () => {
  it('should send the documented headers and no credentials', async () => {
    const g = await gateway(() => 200);
    const res = await g.client.invoke({ ...invocation, async: false, timeoutMs: 2000 });
    expect(res.status).toBe(200);
    const h = g.seen[0]?.headers ?? {};
    expect([g.seen[0]?.url, h['x-connector'], h['x-topic'], h['x-cron-scheduled-time'], h['x-cron-attempt'], h['x-cron-execution-id'], h.authorization]).toEqual([
      '/function/nightly.dev',
      'cron-connector',
      'cron-function',
      '2026-12-02T10:00:00.000Z',
      '2',
      'e-1',
      undefined,
    ]);
  });

  it('should blame a slow synchronous function on upstream_timeout, and a slow asynchronous call on the gateway', async () => {
    const g = await gateway(() => undefined);
    const failure = async (async: boolean): Promise<GatewayError> => {
      try {
        await g.client.invoke({ ...invocation, async, timeoutMs: 50 });
      } catch (err) {
        return err as GatewayError;
      }
      throw new Error('answered');
    };
    const sync = await failure(false);
    expect([sync.code, sync.message]).toEqual(['E_GATEWAY_TIMEOUT', 'POST /function/nightly.dev timed out after 50ms']);
    expect(sync.diagnosis?.cause).toBe('the function did not answer within 50ms (upstream_timeout); it may still be running');
    const queued = await failure(true);
    expect(queued.message).toBe('POST /async-function/nightly.dev timed out after 50ms');
    expect(queued.diagnosis).toEqual({ cause: `${g.url} did not answer within 50ms`, fix: 'check the gateway is healthy (kubectl get pods -n openfaas) and its logs' });
  });
});
