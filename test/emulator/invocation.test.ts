import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cronFunction, startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { call } from './client.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('function invocation', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway();
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '* * * * *'), cronFunction('v1.2', '* * * * *')]);
    gateway.setFunctions('openfaas-fn', [cronFunction('env', '* * * * *')]);
  });
  afterEach(() => gateway.close());

  it('records a sync invocation with lowercased headers and the body', async () => {
    const before = performance.timeOrigin + performance.now();
    const reply = await call(gateway, '/function/nodeinfo.dev', {
      method: 'POST',
      headers: { 'X-Connector': 'cron-connector', 'X-Topic': 'cron-function', 'Content-Type': 'application/json' },
      body: '{"tick":1}',
    });

    expect(reply.status).toBe(200);
    expect(reply.text).toBe('ok');
    expect(gateway.invocations).toEqual([
      {
        kind: 'sync',
        name: 'nodeinfo',
        namespace: 'dev',
        path: '/function/nodeinfo.dev',
        headers: expect.objectContaining({ 'x-connector': 'cron-connector', 'x-topic': 'cron-function', 'content-type': 'application/json' }),
        body: '{"tick":1}',
        at: expect.any(Number),
      },
    ]);
    const at = gateway.invocations[0]?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(performance.timeOrigin + performance.now());
  });

  it('answers with the configured behaviour after its delay', async () => {
    gateway.setFunctionBehavior('dev', 'nodeinfo', { status: 500, body: 'boom', delayMs: 150 });
    const started = Date.now();
    const reply = await call(gateway, '/function/nodeinfo.dev', { method: 'POST' });

    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(reply.status).toBe(500);
    expect(reply.text).toBe('boom');
  });

  it('splits the name at the last dot and URL-decodes each part', async () => {
    expect((await call(gateway, '/function/v1.2.dev', { method: 'POST' })).status).toBe(200);
    expect((await call(gateway, '/function/node%69nfo.d%65v', { method: 'POST' })).status).toBe(200);
    expect(gateway.invocations.map(({ name, namespace }) => `${name}/${namespace}`)).toEqual(['v1.2/dev', 'nodeinfo/dev']);
  });

  it('uses openfaas-fn for a name without a namespace', async () => {
    expect((await call(gateway, '/function/env', { method: 'POST' })).status).toBe(200);
    expect(gateway.invocations[0]).toMatchObject({ name: 'env', namespace: 'openfaas-fn' });
  });

  it('answers 404 for an unknown function and records nothing', async () => {
    const reply = await call(gateway, '/function/missing.dev', { method: 'POST' });
    expect(reply.status).toBe(404);
    expect(reply.text).toBe('function not found');
    expect((await call(gateway, '/function/nodeinfo.staging', { method: 'POST' })).status).toBe(404);
    expect(gateway.invocations).toEqual([]);
  });

  it('stops invoking a removed function', async () => {
    gateway.removeFunction('dev', 'nodeinfo');
    expect((await call(gateway, '/function/nodeinfo.dev', { method: 'POST' })).status).toBe(404);
    gateway.removeNamespace('openfaas-fn');
    expect((await call(gateway, '/function/env', { method: 'POST' })).status).toBe(404);
  });

  it('accepts async invocations with 202 and a fresh X-Call-Id', async () => {
    const first = await call(gateway, '/async-function/nodeinfo.dev', { method: 'POST', body: 'a' });
    const second = await call(gateway, '/async-function/nodeinfo.dev', { method: 'POST', body: 'b' });

    expect(first.status).toBe(202);
    expect(first.headers.get('x-call-id')).toMatch(UUID);
    expect(second.headers.get('x-call-id')).not.toBe(first.headers.get('x-call-id'));
    expect(gateway.invocations.map(({ kind, body, path }) => ({ kind, body, path }))).toEqual([
      { kind: 'async', body: 'a', path: '/async-function/nodeinfo.dev' },
      { kind: 'async', body: 'b', path: '/async-function/nodeinfo.dev' },
    ]);
  });

  it('records async invocations immediately, whatever the function behaviour', async () => {
    gateway.setFunctionBehavior('dev', 'nodeinfo', { delayMs: 5_000, status: 500 });
    const started = Date.now();
    expect((await call(gateway, '/async-function/nodeinfo.dev', { method: 'POST' })).status).toBe(202);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('only accepts POST for async invocations', async () => {
    expect((await call(gateway, '/async-function/nodeinfo.dev')).status).toBe(405);
    expect(gateway.invocations).toEqual([]);
  });
});
