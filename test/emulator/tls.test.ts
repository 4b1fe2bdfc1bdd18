import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { cronFunction, startGateway } from '../support/gateway.ts';
import type { GatewayEmulator } from '../support/gateway.ts';
import { createTestPki } from '../support/tls.ts';
import type { TestPki } from '../support/tls.ts';

describe('https', () => {
  const open: Array<GatewayEmulator | TestPki | Agent> = [];
  afterEach(async () => {
    for (const item of open.splice(0)) {
      if (item instanceof Agent) await item.close();
      else if ('removeFiles' in item) await item.removeFiles();
      else await item.close();
    }
  });

  async function serve(pki: TestPki): Promise<GatewayEmulator> {
    const gateway = await startGateway({ tls: pki.server });
    open.push(gateway, pki);
    gateway.setFunctions('dev', [cronFunction('nodeinfo', '* * * * *')]);
    return gateway;
  }

  function trusting(ca: string): Agent {
    const agent = new Agent({ connect: { ca } });
    open.push(agent);
    return agent;
  }

  it('serves https on 127.0.0.1 with an https system issuer', async () => {
    const pki = await createTestPki();
    const gateway = await serve(pki);
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.systemIssuer).toBe(gateway.url);
    const res = await request(`${gateway.url}/function/nodeinfo.dev`, { method: 'POST', dispatcher: trusting(pki.caCert) });
    expect([res.statusCode, await res.body.text()]).toEqual([200, 'ok']);
    expect(gateway.invocations).toHaveLength(1);
  });

  it('is refused by a client that does not trust the CA', async () => {
    const gateway = await serve(await createTestPki());
    await expect(request(`${gateway.url}/system/namespaces`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(gateway.requests).toEqual([]);
  });

  it('presents an expired certificate when asked to', async () => {
    const pki = await createTestPki({ expired: true });
    const gateway = await serve(pki);
    await expect(request(`${gateway.url}/system/namespaces`, { dispatcher: trusting(pki.caCert) })).rejects.toMatchObject({ code: 'CERT_HAS_EXPIRED' });
  });

  it('presents a certificate for other names when asked to', async () => {
    const pki = await createTestPki({ ips: [], dnsNames: ['gateway.openfaas'] });
    const gateway = await serve(pki);
    await expect(request(`${gateway.url}/system/namespaces`, { dispatcher: trusting(pki.caCert) })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('writes the CA certificate to a file for NODE_EXTRA_CA_CERTS, and removes it', async () => {
    const pki = await createTestPki();
    const path = await pki.writeCaFile();
    expect(await readFile(path, 'utf8')).toBe(pki.caCert);
    expect(pki.caCert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await pki.removeFiles();
    await expect(readFile(path, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
