import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cronFunction, startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { call, postToken, rawRequest } from './client.ts';

describe('malformed input', () => {
  let gateway: GatewayEmulator;

  beforeEach(async () => {
    gateway = await startGateway();
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '* * * * *')]);
  });
  afterEach(() => gateway.close());

  async function expectStillServing(): Promise<void> {
    expect((await call(gateway, '/function/nodeinfo.dev', { method: 'POST' })).status).toBe(200);
  }

  it('answers 400 for a function name with broken percent-encoding', async () => {
    const reply = await call(gateway, '/function/node%E0%A4%A.dev', { method: 'POST' });
    expect(reply.status).toBe(400);
    await expectStillServing();
  });

  it('answers 413 for an oversized body', async () => {
    const reply = await call(gateway, '/function/nodeinfo.dev', { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(reply.status).toBe(413);
    expect(gateway.invocations).toEqual([]);
    await expectStillServing();
  });

  it('answers 400 for a request target that is not a path', async () => {
    const response = await rawRequest(gateway, 'GET http://elsewhere.example.com/system/namespaces HTTP/1.1\r\nHost: x\r\nConnection: close');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    await expectStillServing();
  });

  it('survives bytes that are not HTTP at all', async () => {
    const response = await rawRequest(gateway, '\u0000\u0001 definitely not http');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    await expectStillServing();
  });

  it('answers 401 for malformed Authorization headers', async () => {
    for (const authorization of ['Bearer', 'Bearer a b', 'Token abc', 'Basic', 'Bearer e30.e30.']) {
      expect((await call(gateway, '/system/namespaces', { headers: { authorization } })).status).toBe(401);
    }
  });

  it('rejects a token exchange with a non-JSON, non-JWT subject token politely', async () => {
    const reply = await postToken(gateway, { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'e30.%%%.x', subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' });
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toBe('invalid_request');
  });

  it('rejects a subject token without sub', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"nobody"}').toString('base64url')}.`;
    const reply = await postToken(gateway, { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: unsigned, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' });
    expect(reply.body['error_description']).toBe('issuer not registered: nobody');
  });

  it('answers 404 for unknown paths and empty function names', async () => {
    expect((await call(gateway, '/')).status).toBe(404);
    expect((await call(gateway, '/function/', { method: 'POST' })).status).toBe(404);
    expect((await call(gateway, '/function/.dev', { method: 'POST' })).status).toBe(404);
  });
});
