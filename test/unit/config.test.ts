import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'cc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => i.variable);
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('should apply the documented defaults', () => {
    const c = parseConfig({ gateway_url: 'http://gateway.openfaas:8080/' });
    expect(c).toMatchObject({
      gatewayUrl: 'http://gateway.openfaas:8080',
      auth: { mode: 'none' },
      topic: 'cron-function',
      rebuildIntervalMs: 30_000,
      rebuildTimeoutMs: 10_000,
      asyncInvocation: false,
      contentType: 'text/plain',
      upstreamTimeoutMs: 60_000,
      maxInflight: 64,
      timezone: 'UTC',
      logEncoding: 'console',
      debug: false,
      shutdownTimeoutMs: 25_000,
      httpPort: 8081,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('should enter IAM mode when system_issuer is set, with token_url derived from gateway_url', () => {
    const c = parseConfig({ gateway_url: 'http://gw:8080', system_issuer: 'https://gw.example.com' });
    expect(c.auth).toEqual({
      mode: 'iam',
      systemIssuer: 'https://gw.example.com',
      tokenMountPath: '/var/secrets/tokens',
      tokenFile: '/var/secrets/tokens/openfaas-token',
      tokenUrl: 'http://gw:8080/oauth/token',
    });
  });

  it('should prefer IAM over basic auth and say so', () => {
    const c = parseConfig({ gateway_url: 'http://gw:8080', system_issuer: 'https://gw', basic_auth: 'true' });
    expect(c.auth.mode).toBe('iam');
    expect(c.warnings.join()).toContain('basic_auth is ignored');
  });

  it('should accept 1 and true for booleans', () => {
    const c = parseConfig({ gateway_url: 'http://gw', basic_auth: '1', asynchronous_invocation: 'TRUE', debug: 'true' });
    expect(c.auth).toEqual({ mode: 'basic', secretMountPath: '/var/secrets' });
    expect(c.asyncInvocation).toBe(true);
    expect(c.debug).toBe(true);
  });

  it('should report every bad variable at once, naming the value and what is expected', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({
        gateway_url: 'ftp://gw',
        rebuild_interval: '10',
        max_inflight: 'many',
        timezone: 'Mars/Olympus',
        log_encoding: 'xml',
        debug: 'maybe',
        topic: 'a,b',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error?.issues.map((i) => i.variable)).toEqual([
      'gateway_url',
      'topic',
      'rebuild_interval',
      'max_inflight',
      'timezone',
      'log_encoding',
      'debug',
    ]);
    expect(error?.message).toContain('rebuild_interval="10": expected a Go duration');
    expect(error?.message).toContain('timezone="Mars/Olympus": expected an IANA time zone');
  });

  it('should require gateway_url', () => {
    expect(() => parseConfig({})).toThrow(/gateway_url=\(unset\)/);
  });

  it('should refuse a missing token directory in IAM mode', () => {
    expect(issuesOf({ gateway_url: 'http://gw', system_issuer: 'https://gw', token_mount_path: join(dir, 'nope') })).toEqual([
      'token_mount_path',
    ]);
    expect(loadConfig({ gateway_url: 'http://gw', system_issuer: 'https://gw', token_mount_path: dir }).auth.mode).toBe('iam');
  });

  it('should refuse a zero rebuild_interval but accept a zero shutdown_timeout', () => {
    expect(issuesOf({ gateway_url: 'http://gw', rebuild_interval: '0' })).toEqual(['rebuild_interval']);
    expect(parseConfig({ gateway_url: 'http://gw', shutdown_timeout: '0' }).shutdownTimeoutMs).toBe(0);
  });

  it.each([
    ['rebuild_interval', '1ms', '999ms', '1s', '24h', '24h1s', 'a duration from 1s to 24h (each pass lists every namespace'],
    ['rebuild_timeout', '100ms', '999ms', '1s', '10m', '10m1s', 'a duration from 1s to 10m (a pass needs a token'],
    ['upstream_timeout', '300ms', '999ms', '1s', '24h', '25h', 'a duration from 1s to 24h (the longest a synchronous invocation'],
    ['shutdown_timeout', undefined, undefined, '0', '1h', '1h0m1s', 'a duration from 0 to 1h (how long SIGTERM waits'],
  ])('should keep %s within its bounds and say why', (name, tiny, below, min, max, above, expected) => {
    for (const ok of [min, max]) expect(() => parseConfig({ gateway_url: 'http://gw', [name]: ok })).not.toThrow();
    for (const bad of [tiny, below, above].filter((v): v is string => v !== undefined)) {
      expect(() => parseConfig({ gateway_url: 'http://gw', [name]: bad })).toThrow(`invalid configuration: ${name}="${bad}": expected ${expected}`);
    }
  });

  it('should refuse user info in a URL without printing the password, and point gateway_url at basic_auth', () => {
    for (const [name, value, shown] of [
      ['gateway_url', 'http://admin:s3cret@gw:8080', 'http://REDACTED@gw:8080'],
      ['gateway_url', 'admin:s3cret@gw:8080', 'REDACTED@gw:8080'],
      ['gateway_url', 'http://admin:s3c@ret@gw:8080', 'http://REDACTED@gw:8080'],
      // an "@" after "#" (or "?") may end a secret in a fragment or query: nothing after the scheme is shown
      ['gateway_url', 'http://admin:s3c#ret@gw:8080', 'http://REDACTED'],
      ['gateway_url', 'http://gw:8080/?a@s3cret', 'http://REDACTED'],
      ['gateway_url', 'http://admin:s3c/ret@gw:8080', 'http://REDACTED@gw:8080'],
      ['system_issuer', 'https://admin:s3cret@gw.example.com', 'https://REDACTED@gw.example.com'],
      ['token_url', 'https://admin:s3cret@gw.example.com/oauth/token', 'https://REDACTED@gw.example.com/oauth/token'],
    ] as const) {
      let message = '';
      try {
        parseConfig({ gateway_url: 'http://gw', system_issuer: 'https://gw.example.com', [name]: value });
      } catch (err) {
        message = (err as ConfigError).message;
      }
      expect(message).toContain(`invalid configuration: ${name}="${shown}": expected`);
      for (const part of ['s3c', 'ret@', 'admin']) expect(message).not.toContain(part);
    }
    expect(() => parseConfig({ gateway_url: 'http://admin@gw:8080' })).toThrow(
      'gateway_url="http://REDACTED@gw:8080": expected a URL without a user name or password: they would be printed wherever the URL is, and are never sent; for basic auth set basic_auth=true and mount the basic-auth secret at secret_mount_path',
    );
  });

  it('should refuse a query string or fragment in a URL, without printing it', () => {
    for (const [value, shown] of [
      ['http://gw:8080/?access_token=s3cret', 'http://gw:8080/?REDACTED'],
      ['http://gw:8080?', 'http://gw:8080?REDACTED'],
      ['http://gw:8080/#top', 'http://gw:8080/?REDACTED'],
    ]) {
      expect(() => parseConfig({ gateway_url: value })).toThrow(
        `gateway_url=${JSON.stringify(shown)}: expected a URL without a query string or fragment (the connector appends paths such as /system/functions to it)`,
      );
    }
    expect(parseConfig({ gateway_url: 'http://gw:8080/prefix/' }).gatewayUrl).toBe('http://gw:8080/prefix');
  });
});

describe('configuration: leader election', () => {
  const base = { gateway_url: 'http://gateway:8080', leader_election: 'true' };
  const issues = (env: Record<string, string>, host = {}): string[] => {
    try {
      parseConfig(env, host);
    } catch (err) {
      if (err instanceof ConfigError) return err.issues.map((i) => `${i.variable}=${String(i.value)}: ${i.expected}`);
      throw err;
    }
    return [];
  };

  it('should be off by default', () => {
    expect(parseConfig({ gateway_url: 'http://gateway:8080' }).leaderElection).toBeUndefined();
  });

  it('should default the Lease name, the durations, the namespace from the Pod and the identity from the host', () => {
    expect(parseConfig(base, { hostname: 'laptop', serviceAccountNamespace: 'tenant-a\n' }).leaderElection).toEqual({
      leaseName: 'cron-connector',
      leaseNamespace: 'tenant-a',
      identity: 'laptop',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    const env = { ...base, POD_NAMESPACE: 'from-env', POD_NAME: 'cron-7d9f-x2', lease_name: 'tenant-a-cron', lease_duration: '30s', renew_deadline: '20s', retry_period: '5s' };
    expect(parseConfig(env, { hostname: 'ignored', serviceAccountNamespace: 'ignored' }).leaderElection).toMatchObject({
      leaseName: 'tenant-a-cron',
      leaseNamespace: 'from-env',
      identity: 'cron-7d9f-x2',
      leaseDurationMs: 30_000,
    });
    expect(parseConfig({ ...env, lease_namespace: 'explicit' }).leaderElection?.leaseNamespace).toBe('explicit');
  });

  it('should refuse durations out of order, with the three values', () => {
    expect(issues({ ...base, POD_NAMESPACE: 'ns', POD_NAME: 'p', lease_duration: '10s', renew_deadline: '10s' })).toEqual([
      'renew_deadline=lease_duration=10s renew_deadline=10s retry_period=2s: lease_duration > renew_deadline > retry_period: the leader must stop before a standby may take over, and try to renew more than once before it stops',
    ]);
    expect(issues({ ...base, POD_NAMESPACE: 'ns', POD_NAME: 'p', retry_period: '50ms' })[0]).toMatch(/^retry_period=50ms: a duration from 100ms to 1m/);
  });

  it('should name what is missing or malformed outside a Pod', () => {
    expect(issues(base, { hostname: 'laptop' })).toEqual([
      'lease_namespace=undefined: the namespace of the Lease: set lease_namespace or POD_NAMESPACE (in a Pod it defaults to /var/run/secrets/kubernetes.io/serviceaccount/namespace)',
    ]);
    expect(issues({ ...base, POD_NAMESPACE: 'Bad_NS', lease_name: 'UPPER', POD_NAME: 'p' }).map((i) => i.split(':')[0])).toEqual(['lease_name=UPPER', 'POD_NAMESPACE=Bad_NS']);
  });
});

describe('configuration: token_source', () => {
  const iam = { gateway_url: 'http://gw:8080', system_issuer: 'https://gw.example.com' };
  const issues = (env: Record<string, string>): string[] => {
    try {
      parseConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.issues.map((i) => `${i.variable}=${String(i.value)}: ${i.expected}`);
      throw err;
    }
    return [];
  };

  it('should default to the projected token file', () => {
    const auth = parseConfig(iam).auth;
    expect(auth.mode === 'iam' && auth.tokenSource !== 'kubernetes' ? auth.tokenFile : undefined).toBe('/var/secrets/tokens/openfaas-token');
    expect(parseConfig({ ...iam, token_source: 'file' }).auth).toEqual(parseConfig(iam).auth);
  });

  it('should mint tokens for token_service_account with token_source=kubernetes, without a token directory on disk', () => {
    const env = { ...iam, token_source: 'kubernetes', token_service_account: 'tenant-a/cron-cron-connector', token_mount_path: join(dir, 'nope') };
    const c = loadConfig(env);
    expect(c.auth).toEqual({
      mode: 'iam',
      systemIssuer: 'https://gw.example.com',
      tokenUrl: 'http://gw:8080/oauth/token',
      tokenSource: 'kubernetes',
      serviceAccount: { namespace: 'tenant-a', name: 'cron-cron-connector' },
    });
    expect(c.warnings).toEqual(['token_mount_path is ignored because token_source=kubernetes (the token is minted with the TokenRequest API).']);
  });

  it('should require token_service_account with token_source=kubernetes and check its shape', () => {
    expect(issues({ ...iam, token_source: 'kubernetes' })).toEqual([
      'token_service_account=undefined: <namespace>/<name> of the ServiceAccount to mint tokens for, such as openfaas/cron-connector: the ServiceAccount whose subject (system:serviceaccount:<namespace>:<name>) your IAM Role names (required with token_source=kubernetes)',
    ]);
    const bad = (value: string): string => issues({ ...iam, token_source: 'kubernetes', token_service_account: value })[0] ?? '';
    expect(bad('cron-connector')).toMatch(/^token_service_account=cron-connector: <namespace>\/<name> \(one "\/"\), such as openfaas\/cron-connector/);
    expect(bad('a/b/c')).toContain('(one "/")');
    expect(bad('/cron')).toContain('(one "/")');
    expect(bad('Tenant_A/cron')).toContain('where the namespace is a Kubernetes namespace name');
    expect(bad('tenant-a/Cron')).toContain('where the name is a Kubernetes object name');
    expect(bad('system:serviceaccount:tenant-a:cron')).toBe('token_service_account=system:serviceaccount:tenant-a:cron: <namespace>/<name>, not a subject: write tenant-a/cron');
  });

  it('should refuse an unknown token_source, saying what each value does', () => {
    expect(issues({ ...iam, token_source: 'kubeconfig' })).toEqual([
      'token_source=kubeconfig: file (the projected ServiceAccount token at token_mount_path, in a Pod) or kubernetes (a token minted with the TokenRequest API through KUBECONFIG, e.g. from a laptop)',
    ]);
  });

  it('should warn about variables the chosen source ignores', () => {
    expect(parseConfig({ ...iam, token_service_account: 'openfaas/cron' }).warnings).toEqual([
      'token_service_account is ignored because token_source=file (the projected token at token_mount_path is used).',
    ]);
    expect(parseConfig({ gateway_url: 'http://gw:8080', token_source: 'kubernetes' }).warnings).toEqual([
      'token_source=kubernetes is ignored: it needs IAM mode (set system_issuer).',
    ]);
  });

  it('should still check the token directory on disk with token_source=file', () => {
    expect(issuesOf({ ...iam, token_source: 'file', token_mount_path: join(dir, 'nope') })).toEqual(['token_mount_path']);
  });
});
