import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENDLESS_CHUNK, cronFunction, startGateway } from '../support/gateway.ts';
import type { GatewayEmulator, ScriptedResponse } from '../support/gateway.ts';
import { call, callWithToken } from './client.ts';

const SUB = 'fed:system:serviceaccount:openfaas:cron-connector';

describe('scripted list answers', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway({ auth: 'none' });
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '* * * * *')]);
  });
  afterEach(() => gateway.close());

  const lastRecord = (path: string) => gateway.requests.filter((r) => r.path === path).at(-1);

  it('serves a raw function list verbatim and adds its namespace to the namespace list', async () => {
    gateway.setRawFunctionList('odd', '{"not":"an array"}');
    const reply = await call(gateway, '/system/functions?namespace=odd');
    expect([reply.status, reply.headers.get('content-type'), reply.text]).toEqual([200, 'application/json', '{"not":"an array"}']);
    expect(JSON.parse((await call(gateway, '/system/namespaces')).text)).toEqual(['dev', 'odd']);
    expect(lastRecord('/system/functions')).toMatchObject({ scriptedResponse: { kind: 'body', body: '{"not":"an array"}' }, responseBytes: 18 });
  });

  it('answers other namespaces as usual, and the real list again once the script is removed', async () => {
    gateway.setRawFunctionList('dev', 'null');
    expect((await call(gateway, '/system/functions?namespace=dev')).text).toBe('null');
    gateway.setRawFunctionList('dev', undefined);
    const reply = await call(gateway, '/system/functions?namespace=dev');
    expect(JSON.parse(reply.text)).toMatchObject([{ name: 'nodeinfo' }]);
    expect(lastRecord('/system/functions')?.scriptedResponse).toBeUndefined();
  });

  it('records the very response object it was given, to tell answers apart', async () => {
    const script: ScriptedResponse = { kind: 'body', body: '[]', status: 500, contentType: 'text/html' };
    gateway.setFunctionListResponse('dev', script);
    const reply = await call(gateway, '/system/functions?namespace=dev');
    expect([reply.status, reply.headers.get('content-type')]).toEqual([500, 'text/html']);
    expect(lastRecord('/system/functions')?.scriptedResponse).toBe(script);
  });

  it('redirects anywhere with a Location header and a small HTML body, following nothing itself', async () => {
    gateway.setFunctionListResponse('dev', { kind: 'redirect', status: 307, location: 'https://elsewhere.example/system/functions?namespace=dev&x="<>' });
    const reply = await call(gateway, '/system/functions?namespace=dev', { redirect: 'manual' });
    expect(reply.status).toBe(307);
    expect(reply.headers.get('location')).toBe('https://elsewhere.example/system/functions?namespace=dev&x="<>');
    expect(reply.text).toContain('&#34;&#60;&#62;');
  });

  it('scripts the namespace list too', async () => {
    gateway.setNamespaceListResponse({ kind: 'body', body: '<html>login</html>', contentType: 'text/html' });
    expect((await call(gateway, '/system/namespaces')).text).toBe('<html>login</html>');
    gateway.setNamespaceListResponse(undefined);
    expect(JSON.parse((await call(gateway, '/system/namespaces')).text)).toEqual(['dev']);
  });

  it('dribbles a body that never completes until the client hangs up', async () => {
    gateway.setFunctionListResponse('dev', { kind: 'dribble', chunk: 'x', intervalMs: 10 });
    const abort = new AbortController();
    const res = await request(`${gateway.url}/system/functions?namespace=dev`, { signal: abort.signal });
    expect(res.statusCode).toBe(200);
    let received = '';
    for await (const chunk of res.body) {
      received += String(chunk);
      if (received.length >= 6) break;
    }
    abort.abort();
    expect(received).toMatch(/^\[x{5,}/);
    const record = lastRecord('/system/functions');
    await gateway.waitFor(() => record?.scriptedEnd !== undefined, 1000, 'the dribble to notice the hang-up');
    expect(record?.scriptedEnd).toBe('client gone');
  });

  it('streams an endless body as fast as the client reads, and stops when the client hangs up', async () => {
    gateway.setFunctionListResponse('dev', { kind: 'endless' });
    const res = await request(`${gateway.url}/system/functions?namespace=dev`);
    expect(res.headers['content-length']).toBeUndefined();
    let size = 0;
    let head = '';
    for await (const chunk of res.body) {
      if (head === '') head = String(chunk).slice(0, 1 + DEFAULT_ENDLESS_CHUNK.length);
      size += (chunk as Buffer).length;
      if (size > 4 * 1024 * 1024) break;
    }
    expect(head).toBe(`[${DEFAULT_ENDLESS_CHUNK}`);
    const record = lastRecord('/system/functions');
    await gateway.waitFor(() => record?.scriptedEnd !== undefined, 1000, 'the stream to notice the hang-up');
    expect(record?.scriptedEnd).toBe('client gone');
    expect(record?.responseBytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(record?.responseBytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('ends an endless body with "]" after maxBytes', async () => {
    gateway.setFunctionListResponse('dev', { kind: 'endless', chunk: '1,', maxBytes: 10 });
    const reply = await call(gateway, '/system/functions?namespace=dev');
    expect(reply.text.startsWith('[1,1,')).toBe(true);
    expect(reply.text.endsWith(',]')).toBe(true);
    expect(lastRecord('/system/functions')?.scriptedEnd).toBe('complete');
  });

  it('ends dribbling and endless answers when the gateway closes', async () => {
    gateway.setFunctionListResponse('dev', { kind: 'dribble', chunk: ' ', intervalMs: 5 });
    const res = await request(`${gateway.url}/system/functions?namespace=dev`);
    // a handler at once: the read fails when close() ends the answer, maybe before close() resolves
    const reading = expect(res.body.text()).rejects.toThrow();
    await gateway.close();
    await reading;
    await gateway.waitFor(() => lastRecord('/system/functions')?.scriptedEnd !== undefined, 1000, 'the dribble to end');
    expect(lastRecord('/system/functions')?.scriptedEnd).toBe('gateway closed');
  });

  it('rejects malformed scripts when they are set', () => {
    expect(() => gateway.setRawFunctionList('dev', '')).not.toThrow();
    expect(() => gateway.setFunctionListResponse('dev', { kind: 'body', body: '', status: 42 })).toThrow(/HTTP status code/);
    expect(() => gateway.setFunctionListResponse('dev', { kind: 'redirect', status: 200 as 301, location: '/' })).toThrow(/redirect status/);
    expect(() => gateway.setNamespaceListResponse({ kind: 'dribble', chunk: ' ', intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => gateway.setFault('token', { kind: 'respond', response: { kind: 'endless', chunk: '' } })).toThrow(/non-empty chunk/);
  });

  it('acts out a scripted response as a fault on any route', async () => {
    gateway.setFault('token', { kind: 'respond', response: { kind: 'redirect', status: 308, location: 'https://elsewhere.example/oauth/token' }, times: 1 });
    const first = await call(gateway, '/oauth/token', { method: 'POST', redirect: 'manual' });
    expect([first.status, first.headers.get('location')]).toEqual([308, 'https://elsewhere.example/oauth/token']);
    expect((await call(gateway, '/oauth/token', { method: 'POST', redirect: 'manual' })).status).toBe(404);
  });
});

describe('scripted list answers with IAM', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway();
    gateway.setRawFunctionList('dev', '"scripted"');
    gateway.setNamespaceListResponse({ kind: 'body', body: '"scripted"' });
  });
  afterEach(() => gateway.close());

  it('still requires authentication first', async () => {
    expect((await call(gateway, '/system/functions?namespace=dev')).status).toBe(401);
    expect((await call(gateway, '/system/namespaces')).status).toBe(401);
  });

  it('still requires Function:List on the namespace first', async () => {
    gateway.setPolicy('p', { statement: [{ sid: '1', effect: 'Allow', action: ['Function:List', 'Namespace:List'], resource: ['staging:*'] }] });
    const token = await gateway.issueAccessToken({ sub: SUB, policy: ['p'] });
    expect((await callWithToken(gateway, '/system/functions?namespace=dev', token)).status).toBe(403);
    expect((await callWithToken(gateway, '/system/namespaces', token)).text).toBe('"scripted"');
  });
});
