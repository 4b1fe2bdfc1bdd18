/**
 * token_source=kubernetes: the real built connector outside a Pod, with KUBECONFIG pointing at the
 * Kubernetes API emulator and no projected token anywhere. It mints its ServiceAccount token with
 * the TokenRequest API (audience = system_issuer), exchanges it at the gateway emulator, whose
 * `kubernetes` JwtIssuer trusts the same KubeIssuer, and invokes; `doctor` does the same. A
 * forbidden TokenRequest is reported with the RBAC rule that is missing, and healed once granted.
 * No output ever holds a minted or an issued token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runConnector, stopAllConnectors } from '../support/connector.ts';
import { cronFunction, startGateway, type GatewayEmulator } from '../support/gateway.ts';
import { setupConnectorIam, type ConnectorIam } from '../support/iam-fixture.ts';
import { DEFAULT_KUBE_USER, startKubeApi, type KubeApiServer } from '../support/kube-api.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';
import { callsOf, is, launch, secret } from '../helpers/fixture.ts';

const NS = 'openfaas';
const SA = 'cron-connector';
const SUBJECT = `system:serviceaccount:${NS}:${SA}`;
const CONTEXT = 'kubeconfig context "kube-api-emulator"';
const RULE = `apiGroups: [""] resources: [serviceaccounts/token] resourceNames: [${SA}] verbs: [create]`;

interface Cluster {
  kube: KubeApiServer;
  gateway: GatewayEmulator;
  iam: ConnectorIam;
  /** Env for the connector: IAM mode, token_source=kubernetes, KUBECONFIG; no token_mount_path. */
  env: Record<string, string>;
}

const live: Array<{ cluster: Cluster; dir: string }> = [];

afterEach(async () => {
  for (const { cluster } of live) secret(...cluster.kube.issuedTokens.map((t) => t.token), ...cluster.gateway.issuedTokens);
  await stopAllConnectors();
  for (const { cluster, dir } of live.splice(0)) {
    await Promise.all([cluster.kube.close(), cluster.gateway.close()]);
    await rm(dir, { recursive: true, force: true });
  }
});

/** One KubeIssuer signs the TokenRequest tokens and is the gateway's `kubernetes` JwtIssuer. */
async function cluster(): Promise<Cluster> {
  const issuer = await KubeIssuer.create();
  const kube = await startKubeApi({ issuer });
  kube.addServiceAccount(NS, SA);
  const gateway = await startGateway();
  const iam = await setupConnectorIam(gateway, { kube: issuer, namespace: NS, serviceAccount: SA, resource: ['dev:*'] });
  const dir = await mkdtemp(join(tmpdir(), 'cc-token-source-'));
  const c: Cluster = {
    kube,
    gateway,
    iam,
    env: {
      gateway_url: gateway.url,
      system_issuer: gateway.systemIssuer,
      token_source: 'kubernetes',
      token_service_account: `${NS}/${SA}`,
      KUBECONFIG: await kube.writeKubeconfig(dir),
    },
  };
  live.push({ cluster: c, dir });
  return c;
}

describe('token_source=kubernetes', () => {
  it('should mint its ServiceAccount token with TokenRequest for system_issuer, exchange it and invoke', async () => {
    const c = await cluster();
    c.gateway.setFunctions('dev', [cronFunction('tick', '* * * * * *')]);
    const connector = await launch(c.env);

    const minted = await connector.waitForLog(is('ServiceAccount token obtained'));
    expect(minted).toMatchObject({ serviceAccount: `${NS}/${SA}`, kubernetes: CONTEXT, audience: c.gateway.systemIssuer });
    // an hour, from a token issued at a whole second: renewed at 80% of it
    expect(minted.expiresIn).toMatch(/^(1h0m0s|59m5\d(\.\d+)?s)$/);
    expect(minted.renewIn).toMatch(/^(48m0s|47m5\d(\.\d+)?s)$/);
    expect(c.kube.issuedTokens).toEqual([
      expect.objectContaining({ namespace: NS, serviceAccount: SA, audiences: [c.gateway.systemIssuer], expirationSeconds: 3600 }),
    ]);
    expect(c.kube.requests.filter((r) => r.resource === 'serviceaccounts/token')).toEqual([
      expect.objectContaining({ method: 'POST', verb: 'create', namespace: NS, name: SA, status: 201 }),
    ]);

    expect(await connector.waitForLog(is('Access token obtained'))).toMatchObject({ subject: SUBJECT, policies: ['cron-connector'] });
    expect(c.gateway.exchanges.filter((e) => e.ok).map((e) => e.sub)).toEqual([SUBJECT]);
    await connector.waitForLog(is('Added', { function: 'tick.dev' }));
    await c.gateway.waitFor(() => callsOf(c.gateway, 'tick', 'dev').length >= 1, 5_000, 'an invocation');
    // one token for the whole run: it is renewed at 48 minutes, not per exchange
    expect(c.kube.issuedTokens).toHaveLength(1);
  });

  it('should pass doctor, reporting the minted token\'s claims and exchanging it', async () => {
    const c = await cluster();
    c.gateway.setFunctions('dev', [cronFunction('tick', '*/5 * * * *')]);
    const r = await runConnector(c.env, ['doctor']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`IAM mode (system_issuer ${c.gateway.systemIssuer}, token_source kubernetes for ServiceAccount ${NS}/${SA})`);
    expect(r.stdout).toMatch(
      new RegExp(
        `✓ projected token  TokenRequest for ServiceAccount ${NS}/${SA} \\(${CONTEXT}\\): sub ${SUBJECT}, iss ${escape(c.iam.kube.iss)}, aud \\[${escape(c.gateway.systemIssuer)}\\], expires in (59m59s|1h)\\n`,
      ),
    );
    expect(r.stdout).toContain(`✓ token exchange   access token for ${SUBJECT}`);
    expect(r.stdout).toContain('tick.dev: "*/5 * * * *" (UTC)');
    expect(c.kube.issuedTokens).toEqual([expect.objectContaining({ serviceAccount: SA, audiences: [c.gateway.systemIssuer] })]);

    const json = await runConnector(c.env, ['doctor', '--json']);
    const doc = JSON.parse(json.stdout) as { ok: boolean; token: Record<string, unknown> };
    expect(doc.ok).toBe(true);
    expect(doc.token).toEqual({
      source: 'kubernetes',
      serviceAccount: `${NS}/${SA}`,
      iss: c.iam.kube.iss,
      sub: SUBJECT,
      aud: [c.gateway.systemIssuer],
      expiresAt: expect.stringMatching(/Z$/) as unknown,
    });
  });

  it('should name the missing RBAC rule when the TokenRequest is forbidden, in the logs and in doctor, and recover once it is granted', async () => {
    const c = await cluster();
    c.kube.setRules(DEFAULT_KUBE_USER, []);
    c.gateway.setFunctions('dev', [cronFunction('tick', '* * * * * *')]);

    const doctor = await runConnector(c.env, ['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`✗ projected token  Kubernetes API: create serviceaccounts/token ${NS}/${SA}: 403 Forbidden`);
    expect(doctor.stdout).toContain(`cause: RBAC does not allow "create" on the token of ServiceAccount ${NS}/${SA}`);
    expect(doctor.stdout).toContain(`fix:   add a Role in namespace ${NS} with ${RULE}, bound to the identity the connector calls the API with (${CONTEXT})`);
    expect(doctor.stdout).toContain(`kubectl auth can-i create serviceaccounts/${SA} --subresource=token -n ${NS}`);
    expect(doctor.stdout).toContain('- token exchange   skipped: no ServiceAccount token (TokenRequest failed)');

    const connector = await launch(c.env);
    const failure = await connector.waitForLog(is('Token exchange failed'));
    expect(failure).toMatchObject({ code: 'E_KUBE_API', status: 403, subject: SUBJECT, attempt: 1 });
    expect(String(failure.error)).toContain(`Kubernetes API: create serviceaccounts/token ${NS}/${SA}: 403 Forbidden`);
    expect(String(failure.hint)).toContain(`RBAC does not allow "create" on the token of ServiceAccount ${NS}/${SA}; add a Role in namespace ${NS} with ${RULE}`);
    expect(c.gateway.exchanges).toEqual([]);

    c.kube.setRules(DEFAULT_KUBE_USER, [{ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [SA] }]);
    await connector.waitForLog(is('Access token obtained', { subject: SUBJECT }), 15_000);
    await c.gateway.waitFor(() => callsOf(c.gateway, 'tick', 'dev').length >= 1, 10_000, 'an invocation after the rule was granted');
  });

  it('should say the ServiceAccount does not exist', async () => {
    const c = await cluster();
    const r = await runConnector({ ...c.env, token_service_account: `${NS}/ghost` }, ['doctor']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`cause: ServiceAccount ${NS}/ghost does not exist`);
  });

  it('should refuse to start without token_service_account, and never look for a token directory', async () => {
    const c = await cluster();
    const env = Object.fromEntries(Object.entries(c.env).filter(([name]) => name !== 'token_service_account'));
    const r = await runConnector({ ...env, token_mount_path: '/nonexistent/tokens' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('token_service_account=(unset): expected <namespace>/<name> of the ServiceAccount to mint tokens for');
    expect(r.stderr).not.toContain('token_mount_path');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
