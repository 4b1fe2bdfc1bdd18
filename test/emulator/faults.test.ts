import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cronFunction, startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { call } from './client.ts';

describe('fault switches', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway({ auth: 'none' });
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '* * * * *')]);
  });
  afterEach(() => gateway.close());

  const invoke = (): Promise<number> => call(gateway, '/function/nodeinfo.dev', { method: 'POST' }).then((reply) => reply.status);
  const listNamespaces = (): Promise<number> => call(gateway, '/system/namespaces').then((reply) => reply.status);

  it('drops the connection without a response when down', async () => {
    gateway.setFault('invoke', { kind: 'down' });
    await expect(invoke()).rejects.toThrow();
    expect(gateway.invocations).toEqual([]);
    expect(gateway.requests.at(-1)?.status).toBe(0);
  });

  it('answers with the injected status and body', async () => {
    gateway.setFault('namespaces', { kind: 'status', status: 503, body: 'upstream unavailable' });
    const reply = await call(gateway, '/system/namespaces');
    expect(reply.status).toBe(503);
    expect(reply.text).toBe('upstream unavailable');
  });

  it('clears a status fault after the given number of requests', async () => {
    gateway.setFault('invoke', { kind: 'status', status: 502, times: 2 });
    expect([await invoke(), await invoke(), await invoke()]).toEqual([502, 502, 200]);
    expect(gateway.invocations).toHaveLength(1);
  });

  it('answers garbage labelled as JSON', async () => {
    gateway.setFault('functions', { kind: 'garbage' });
    const reply = await call(gateway, '/system/functions?namespace=dev');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(() => JSON.parse(reply.text) as unknown).toThrow(SyntaxError);
  });

  it('hangs until the client gives up, and close() does not wait for hanging requests', async () => {
    gateway.setFault('token', { kind: 'hang' });
    const started = Date.now();
    await expect(call(gateway, '/oauth/token', { method: 'POST', signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    // a handler at once: close() drops the request, and it may fail before close() resolves
    const refused = expect(call(gateway, '/oauth/token', { method: 'POST' })).rejects.toThrow();
    await gateway.waitFor(() => gateway.requests.length === 2, 1_000, 'the second request');
    await gateway.close();
    await refused;
  });

  it('responds normally after the delay when slow', async () => {
    gateway.setFault('invoke', { kind: 'slow', delayMs: 150 });
    const started = Date.now();
    expect(await invoke()).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(gateway.invocations).toHaveLength(1);
  });

  it('applies an all fault to every route', async () => {
    gateway.setFault('all', { kind: 'status', status: 500 });
    expect([await invoke(), await listNamespaces(), (await call(gateway, '/anything')).status]).toEqual([500, 500, 500]);
  });

  it('prefers a route fault over the all fault', async () => {
    gateway.setFault('all', { kind: 'status', status: 500 });
    gateway.setFault('invoke', { kind: 'status', status: 429 });
    expect([await invoke(), await listNamespaces()]).toEqual([429, 500]);
  });

  it('only affects its own route group', async () => {
    gateway.setFault('namespaces', { kind: 'down' });
    expect(await invoke()).toBe(200);
  });

  it('removes faults with undefined and with clearFaults', async () => {
    gateway.setFault('invoke', { kind: 'status', status: 500 });
    gateway.setFault('invoke', undefined);
    expect(await invoke()).toBe(200);

    gateway.setFault('invoke', { kind: 'status', status: 500 });
    gateway.setFault('namespaces', { kind: 'status', status: 500 });
    gateway.clearFaults();
    expect([await invoke(), await listNamespaces()]).toEqual([200, 200]);
  });

  it('rejects malformed faults when they are set', () => {
    expect(() => gateway.setFault('invoke', { kind: 'status', status: 42 })).toThrow(/HTTP status code/);
    expect(() => gateway.setFault('invoke', { kind: 'down', times: 0 })).toThrow(/positive integer/);
  });
});
