/**
 * An HTTPS gateway: trusted through NODE_EXTRA_CA_CERTS when signed by a private CA, and
 * refused, with the explanation, when its certificate cannot be trusted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cronFunction, startGateway, type GatewayEmulator } from '../support/gateway.ts';
import { createTestPki, type TestPki, type TestPkiOptions } from '../support/tls.ts';
import { callsOf, is, launch, world } from '../helpers/fixture.ts';

const pkis: TestPki[] = [];
const gateways: GatewayEmulator[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close();
  for (const p of pkis.splice(0)) await p.removeFiles();
});

async function pki(opts: TestPkiOptions = {}): Promise<TestPki> {
  const created = await createTestPki(opts);
  pkis.push(created);
  return created;
}

/** [what the gateway presents, how its certificate is made, whether the CA is trusted, the TLS code, the advice expected]. */
const untrusted: Array<[string, TestPkiOptions, boolean, string, RegExp]> = [
  ['a private CA nobody told it about', {}, false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', /set NODE_EXTRA_CA_CERTS to its path/],
  ['an expired certificate from a trusted CA', { expired: true }, true, 'CERT_HAS_EXPIRED', /CERT_HAS_EXPIRED/],
  ['a trusted certificate for another host name', { ips: [], dnsNames: ['gateway.openfaas'] }, true, 'ERR_TLS_CERT_ALTNAME_INVALID', /ERR_TLS_CERT_ALTNAME_INVALID/],
];

describe('tls', () => {
  it('should exchange, discover and invoke over https when the private CA is trusted through NODE_EXTRA_CA_CERTS', async () => {
    const ca = await pki();
    const w = await world({ gateway: { tls: ca.server } });
    expect(w.gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(w.gateway.systemIssuer).toBe(w.gateway.url);
    w.gateway.setFunctions('dev', [cronFunction('secure', '* * * * * *')]);
    const connector = await w.start({ NODE_EXTRA_CA_CERTS: await ca.writeCaFile() });
    await connector.waitForLog(is('Access token obtained'));
    await connector.waitForLog(is('Added', { function: 'secure.dev' }));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'secure', 'dev').length >= 1, 5000, 'an invocation over https');
    expect(await connector.waitForLog(is('Response', { function: 'secure.dev' }))).toMatchObject({ status: 200 });
    expect(w.gateway.exchanges.filter((e) => !e.ok)).toEqual([]);
    expect(connector.countLogs((l) => l.level === 'warn' || l.level === 'error')).toBe(0);
  });

  it.each(untrusted)('should refuse %s, explain why in the token exchange and discovery failures, and stay up', async (_label, opts, trustCa, code, advice) => {
    const ca = await pki(opts);
    const w = await world({ gateway: { tls: ca.server } });
    w.gateway.setFunctions('dev', [cronFunction('secure', '* * * * * *')]);
    const connector = await w.start(trustCa ? { NODE_EXTRA_CA_CERTS: await ca.writeCaFile() } : {});
    const exchange = await connector.waitForLog(is('Token exchange failed'));
    expect(exchange).toMatchObject({ code: 'E_TOKEN_EXCHANGE', subject: w.iam.subject });
    expect(String(exchange.error)).toContain(code);
    expect(String(exchange.hint)).toContain(`TLS certificate of ${new URL(w.gateway.url).host}`);
    expect(String(exchange.hint)).toMatch(advice);
    const discovery = await connector.waitForLog(is('Discovery failed, keeping current schedules'));
    expect(discovery).toMatchObject({ code: 'E_TOKEN_EXCHANGE', hint: exchange.hint });
    await connector.waitForLog(is('Token exchange failed', { attempt: 2 }));
    expect(await connector.stop()).toEqual({ code: 0, signal: null });
    expect(w.gateway.exchanges).toEqual([]);
    expect(w.gateway.invocations).toEqual([]);
  });

  it('should explain an untrusted certificate when listing without IAM', async () => {
    const ca = await pki();
    const gateway = await startGateway({ auth: 'none', tls: ca.server });
    gateways.push(gateway);
    gateway.setFunctions('dev', [cronFunction('secure', '* * * * * *')]);
    const connector = await launch({ gateway_url: gateway.url });
    const failed = await connector.waitForLog(is('Discovery failed, keeping current schedules'));
    expect(failed).toMatchObject({ code: 'E_GATEWAY_NETWORK' });
    expect(String(failed.error)).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(String(failed.hint)).toBe(
      `the TLS certificate of ${new URL(gateway.url).host} is signed by an unknown authority (a private CA or a self-signed certificate) (UNABLE_TO_VERIFY_LEAF_SIGNATURE); if it is signed by a private CA, mount the CA bundle and set NODE_EXTRA_CA_CERTS to its path`,
    );
    expect(await connector.stop()).toEqual({ code: 0, signal: null });
    expect(gateway.requests).toEqual([]);
  });

  it('should say in one line that an https:// URL points at a plain-HTTP port', async () => {
    const gateway = await startGateway({ auth: 'none' });
    gateways.push(gateway);
    const host = new URL(gateway.url).host;
    const connector = await launch({ gateway_url: `https://${host}` });
    const failed = await connector.waitForLog(is('Discovery failed, keeping current schedules'));
    expect(failed).toMatchObject({ code: 'E_GATEWAY_NETWORK', error: 'GET /system/namespaces failed: wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)' });
    expect(failed.hint).toBe(
      `${host} does not speak TLS: the URL says https:// but the port answers in plain HTTP (ERR_SSL_WRONG_VERSION_NUMBER); use http://${host} if that port serves plain HTTP, or the port that serves TLS`,
    );
    expect(connector.lines.filter((l) => /openssl|deps\//i.test(l))).toEqual([]);
    expect(await connector.stop()).toEqual({ code: 0, signal: null });
  });
});
