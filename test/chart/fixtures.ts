// Values and accessors shared by the chart tests.
import type { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { Values } from './helm.ts';

export const systemIssuer = 'https://gateway.example.com';
export const kubernetesIssuer = 'https://kubernetes.default.svc.cluster.local';

/**
 * Values for an IAM-enabled release scoped to `resource` (the chart's default, [], is the release
 * namespace), merged with `extra` at the top level.
 */
export function iamValues(resource: readonly string[] = [], extra: Values = {}): Values {
  return {
    ...extra,
    iam: { enabled: true, systemIssuer: { url: systemIssuer }, resource, ...(extra.iam as Values | undefined) },
  };
}

/** Values for a release without IAM (basic auth unless `extra` says otherwise). */
export function basicAuthValues(extra: Values = {}): Values {
  return { ...extra, iam: { enabled: false, ...(extra.iam as Values | undefined) } };
}

export function podSpec(deployment: Deployment): IPodSpec {
  const spec = deployment.spec?.template.spec;
  if (!spec) throw new Error('Deployment has no pod spec');
  return spec;
}

/** The connector container (the only one). */
export function connector(deployment: Deployment): IContainer {
  const containers = podSpec(deployment).containers;
  const [first] = containers;
  if (containers.length !== 1 || !first) throw new Error(`expected one container, found ${String(containers.length)}`);
  return first;
}

/**
 * The container's env as name → value, a downward API field as "fieldRef:<fieldPath>"; throws on
 * duplicates.
 */
export function envOf(deployment: Deployment): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const entry of connector(deployment).env ?? []) {
    if (entry.name in env) throw new Error(`duplicate env ${entry.name}`);
    const field = entry.valueFrom?.fieldRef?.fieldPath;
    env[entry.name] = field === undefined ? entry.value : `fieldRef:${field}`;
  }
  return env;
}

/** The env every release sets for leader election's identity, from the downward API. */
export const podIdentityEnv = {
  POD_NAME: 'fieldRef:metadata.name',
  POD_NAMESPACE: 'fieldRef:metadata.namespace',
} as const;
