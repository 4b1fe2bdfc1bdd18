import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir, ciDir, helmTemplate, ofKind, one, type Manifest, type Values } from './helm.ts';
import { basicAuthValues, connector, envOf, iamValues, podIdentityEnv, podSpec, systemIssuer } from './fixtures.ts';
import { asDeployment } from './validate.ts';

const chart = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };

function ciValues(name: string): Values {
  return parse(readFileSync(path.join(ciDir, `${name}-values.yaml`), 'utf8')) as Values;
}

async function render(values: Values, namespace = 'tenant-a') {
  const docs = await helmTemplate(values, { releaseName: 'cron', namespace });
  return { docs, deployment: asDeployment(one(docs, 'Deployment')) };
}

// What every release sets, whatever the authentication.
const defaultEnv = {
  gateway_url: 'http://gateway.openfaas:8080',
  topic: 'cron-function',
  rebuild_interval: '30s',
  rebuild_timeout: '10s',
  asynchronous_invocation: 'false',
  content_type: 'text/plain',
  upstream_timeout: '60s',
  max_inflight: '64',
  retries: '2',
  jwt_auth: 'false',
  timezone: 'UTC',
  log_encoding: 'console',
  debug: 'false',
  shutdown_timeout: '25s',
  http_port: '8081',
  leader_election: 'false',
  ...podIdentityEnv,
};

describe('the Deployment with IAM', () => {
  it('sets the connector env for IAM and no basic auth', async () => {
    const { deployment } = await render(iamValues(['dev:*']));
    expect(envOf(deployment)).toEqual({
      ...defaultEnv,
      system_issuer: systemIssuer,
      token_mount_path: '/var/secrets/tokens',
      basic_auth: 'false',
    });
  });

  it('mounts only the projected token, read-only, with the system issuer as audience', async () => {
    const { deployment } = await render(iamValues(['dev:*']));
    expect(podSpec(deployment).volumes).toEqual([
      {
        name: 'openfaas-token',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'openfaas-token', audience: systemIssuer, expirationSeconds: 7200 } },
          ],
        },
      },
    ]);
    expect(connector(deployment).volumeMounts).toEqual([
      { name: 'openfaas-token', mountPath: '/var/secrets/tokens', readOnly: true },
    ]);
  });

  it('never mounts the basic-auth secret, even with basicAuth: true', async () => {
    const { deployment } = await render(iamValues(['dev:*'], { basicAuth: true }));
    expect(envOf(deployment).basic_auth).toBe('false');
    expect(envOf(deployment)).not.toHaveProperty('secret_mount_path');
    expect(podSpec(deployment).volumes?.some((v) => v.secret !== undefined)).toBe(false);
    expect(JSON.stringify(podSpec(deployment))).not.toContain('basic-auth');
  });

  it('passes iam.tokenExpirationSeconds to the projected token', async () => {
    const { deployment } = await render(iamValues(['dev:*'], { iam: { tokenExpirationSeconds: 600 } }));
    const source = podSpec(deployment).volumes?.[0]?.projected?.sources?.[0];
    expect(source?.serviceAccountToken?.expirationSeconds).toBe(600);
  });

  it('runs as the release ServiceAccount with no automounted API token', async () => {
    const { docs, deployment } = await render(iamValues(['dev:*']));
    const serviceAccount = one(docs, 'ServiceAccount');
    expect(podSpec(deployment).serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(podSpec(deployment).automountServiceAccountToken).toBe(false);
    expect(serviceAccount.automountServiceAccountToken).toBe(false);
    expect(serviceAccount.metadata.namespace).toBe('tenant-a');
  });
});

describe('the Deployment with basic auth', () => {
  it('sets basic_auth and secret_mount_path and no IAM env', async () => {
    const { deployment } = await render(ciValues('basic-auth'));
    expect(envOf(deployment)).toEqual({
      ...defaultEnv,
      asynchronous_invocation: 'true',
      content_type: 'application/json',
      basic_auth: 'true',
      secret_mount_path: '/var/secrets',
    });
  });

  it('mounts the two keys of the basic-auth secret read-only at /var/secrets', async () => {
    const { deployment } = await render(ciValues('basic-auth'));
    expect(podSpec(deployment).volumes).toEqual([
      {
        name: 'basic-auth',
        secret: {
          secretName: 'basic-auth',
          items: [
            { key: 'basic-auth-user', path: 'basic-auth-user' },
            { key: 'basic-auth-password', path: 'basic-auth-password' },
          ],
        },
      },
    ]);
    expect(connector(deployment).volumeMounts).toEqual([
      { name: 'basic-auth', mountPath: '/var/secrets', readOnly: true },
    ]);
  });

  it('creates no ServiceAccount, Policy or Role and runs as the default ServiceAccount', async () => {
    const { docs, deployment } = await render(ciValues('basic-auth'));
    expect(docs.map((d) => d.kind)).toEqual(['Deployment']);
    expect(podSpec(deployment).serviceAccountName).toBe('default');
    expect(podSpec(deployment).automountServiceAccountToken).toBe(false);
  });

  it('is one value away from the default: iam.enabled=false', async () => {
    const { docs, deployment } = await render({ iam: { enabled: false } });
    expect(envOf(deployment).basic_auth).toBe('true');
    expect(envOf(deployment)).not.toHaveProperty('system_issuer');
    expect(podSpec(deployment).volumes?.map((v) => v.name)).toEqual(['basic-auth']);
    expect(docs.map((d) => d.kind)).toEqual(['Deployment']);
  });
});

describe('the default authentication', () => {
  it('is IAM, scoped to the release namespace, once the system issuer is set', async () => {
    const { docs, deployment } = await render({ iam: { systemIssuer: { url: systemIssuer } } });
    expect(envOf(deployment)).toMatchObject({ system_issuer: systemIssuer, basic_auth: 'false' });
    expect(podSpec(deployment).volumes?.map((v) => v.name)).toEqual(['openfaas-token']);
    const policy = one(docs, 'Policy') as Manifest & { spec: { statement: { resource: string[] }[] } };
    expect(policy.spec.statement.map((s) => s.resource)).toEqual([['tenant-a:*']]);
  });
});

describe('the Deployment without authentication', () => {
  it('mounts nothing and sets basic_auth=false', async () => {
    const { deployment } = await render(ciValues('no-auth'));
    expect(envOf(deployment)).toEqual({ ...defaultEnv, basic_auth: 'false' });
    expect(podSpec(deployment).volumes).toBeUndefined();
    expect(connector(deployment).volumeMounts).toBeUndefined();
  });
});

/** The connector container's securityContext with the chart's defaults. */
const CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

describe('the Deployment defaults', () => {
  it('runs exactly one replica and recreates it on upgrade', async () => {
    const { deployment } = await render(iamValues());
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.strategy).toEqual({ type: 'Recreate' });
  });

  it('is secure by default', async () => {
    const { deployment } = await render(iamValues());
    expect(podSpec(deployment).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(connector(deployment).securityContext).toEqual(CONTAINER_SECURITY_CONTEXT);
    expect(podSpec(deployment).enableServiceLinks).toBe(false);
  });

  it('requests the memory an idle connector uses and limits it above a discovery pass at 100,000 functions', async () => {
    // BENCHMARKS.md: idle ~112 MiB, 1,000 functions on a slot 127 MiB, discovery at 100,000 up to 241 MiB.
    const { deployment } = await render(iamValues());
    expect(connector(deployment).resources?.requests).toEqual({ cpu: '50m', memory: '128Mi' });
    expect(connector(deployment).resources?.limits).toEqual({ memory: '320Mi' });
  });

  it('gives SIGTERM handling shutdown_timeout plus 5 seconds', async () => {
    const { deployment } = await render(iamValues());
    expect(podSpec(deployment).terminationGracePeriodSeconds).toBe(30);
    expect(envOf(deployment).shutdown_timeout).toBe('25s');
  });

  it('exposes the HTTP port and probes /healthz and /readyz on it', async () => {
    const { deployment } = await render(iamValues());
    const container = connector(deployment);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('uses the chart appVersion as the image tag', async () => {
    const { deployment } = await render(iamValues());
    expect(connector(deployment).image).toBe(`ghcr.io/openfaas/cron-connector-ts:${chart.appVersion}`);
    expect(connector(deployment).imagePullPolicy).toBe('IfNotPresent');
  });

  it('selects its Pods by the stable selector labels', async () => {
    const { deployment } = await render(iamValues());
    const selector = deployment.spec?.selector.matchLabels;
    expect(selector).toEqual({ 'app.kubernetes.io/name': 'cron-connector', 'app.kubernetes.io/instance': 'cron' });
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(selector ?? {});
  });
});

describe('the Deployment with a custom security context', () => {
  it('drops the fixed user and group and keeps the rest of the defaults', async () => {
    const { deployment } = await render(ciValues('custom-security-context'));
    expect(podSpec(deployment).securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(connector(deployment).securityContext).toEqual({ ...CONTAINER_SECURITY_CONTEXT, runAsUser: 10001 });
  });
});

describe('the Deployment with production values', () => {
  it('maps every value to its env variable and appends extraEnv', async () => {
    const { deployment } = await render(ciValues('production'));
    expect(envOf(deployment)).toEqual({
      gateway_url: 'https://gateway.example.com',
      system_issuer: systemIssuer,
      token_mount_path: '/var/secrets/tokens',
      basic_auth: 'false',
      topic: 'nightly',
      rebuild_interval: '1m',
      rebuild_timeout: '15s',
      asynchronous_invocation: 'true',
      content_type: 'text/plain',
      upstream_timeout: '2m30s',
      max_inflight: '16',
      retries: '3',
      jwt_auth: 'true',
      timezone: 'Europe/London',
      log_encoding: 'json',
      debug: 'true',
      shutdown_timeout: '50s',
      http_port: '8081',
      // replicas: 2 turns leader election on.
      leader_election: 'true',
      lease_name: 'cron-cron-connector',
      lease_duration: '15s',
      renew_deadline: '10s',
      retry_period: '2s',
      ...podIdentityEnv,
      NODE_EXTRA_CA_CERTS: '/etc/ssl/gateway/ca.crt',
    });
    expect(connector(deployment).env?.at(-1)?.name).toBe('NODE_EXTRA_CA_CERTS');
  });

  it('pins the image by digest and passes pull settings', async () => {
    const { deployment } = await render(ciValues('production'));
    expect(connector(deployment).image).toBe(
      'registry.example.com/mirror/cron-connector-ts@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    );
    expect(connector(deployment).imagePullPolicy).toBe('Always');
    expect(podSpec(deployment).imagePullSecrets).toEqual([{ name: 'regcred' }]);
  });

  it('adds extra volumes after the token volume', async () => {
    const { deployment } = await render(ciValues('production'));
    expect(podSpec(deployment).volumes?.map((v) => v.name)).toEqual(['openfaas-token', 'gateway-ca']);
    expect(connector(deployment).volumeMounts?.map((m) => m.mountPath)).toEqual([
      '/var/secrets/tokens',
      '/etc/ssl/gateway',
    ]);
  });

  it('passes scheduling and Pod metadata through', async () => {
    const { deployment } = await render(ciValues('production'));
    const spec = podSpec(deployment);
    expect(spec.terminationGracePeriodSeconds).toBe(60);
    expect(spec.priorityClassName).toBe('system-cluster-critical');
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.tolerations).toHaveLength(1);
    expect(spec.affinity?.nodeAffinity).toBeDefined();
    expect(deployment.spec?.template.metadata?.annotations).toEqual({ 'example.com/team': 'payments' });
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({ 'example.com/cost-centre': '1234' });
    expect(connector(deployment).resources).toEqual({
      requests: { cpu: '100m', memory: '192Mi' },
      limits: { memory: '320Mi' },
    });
  });

  it('does not let podLabels replace the selector labels', async () => {
    const { deployment } = await render(iamValues([], { podLabels: { 'app.kubernetes.io/name': 'other', team: 'a' } }));
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({
      'app.kubernetes.io/name': 'cron-connector',
      team: 'a',
    });
  });
});

describe('the image value', () => {
  it('accepts the upstream chart string form', async () => {
    const { deployment } = await render(ciValues('upstream-compat'));
    expect(connector(deployment).image).toBe('ghcr.io/openfaas/cron-connector-ts:0.1.0');
    expect(connector(deployment).imagePullPolicy).toBe('IfNotPresent');
  });

  it('uses an explicit tag', async () => {
    const { deployment } = await render(iamValues([], { image: { tag: '9.9.9' } }));
    expect(connector(deployment).image).toBe('ghcr.io/openfaas/cron-connector-ts:9.9.9');
  });
});

describe('the metrics Service and ServiceMonitor', () => {
  it('are not created by default', async () => {
    const { docs } = await render(iamValues());
    expect(ofKind(docs, 'Service')).toEqual([]);
    expect(ofKind(docs, 'ServiceMonitor')).toEqual([]);
  });

  it('expose the metrics port to a ServiceMonitor', async () => {
    const { docs, deployment } = await render(ciValues('service-monitor'));
    expect(envOf(deployment).http_port).toBe('9091');
    expect(connector(deployment).ports?.[0]?.containerPort).toBe(9091);

    const service = one(docs, 'Service') as Manifest & { spec: Record<string, unknown> };
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      selector: deployment.spec?.selector.matchLabels,
      ports: [{ name: 'http', port: 9091, targetPort: 'http', protocol: 'TCP' }],
    });

    const monitor = one(docs, 'ServiceMonitor') as Manifest & { spec: Record<string, unknown> };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.namespace).toBe('monitoring');
    expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(monitor.spec).toEqual({
      selector: { matchLabels: deployment.spec?.selector.matchLabels },
      namespaceSelector: { matchNames: ['tenant-a'] },
      endpoints: [{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }],
    });
  });

  it('creates only the Service with metrics.service.enabled', async () => {
    const { docs } = await render(basicAuthValues({ metrics: { service: { enabled: true } } }));
    expect(ofKind(docs, 'Service')).toHaveLength(1);
    expect(ofKind(docs, 'ServiceMonitor')).toEqual([]);
  });
});
