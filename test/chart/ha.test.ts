// High availability: replicas, leader election on a coordination.k8s.io/v1 Lease (env, RBAC Role
// and RoleBinding, API token), the PodDisruptionBudget, the spread over nodes, the strategy, and
// the values refused at install time.
import { describe, expect, it } from 'vitest';
import { DURATION_BOUNDS } from '../../src/config.ts';
import { parseDuration } from '../../src/duration.ts';
import { helmNotes, helmTemplate, helmTemplateError, ofKind, one, type Manifest, type Values } from './helm.ts';
import { basicAuthValues, envOf, iamValues, podIdentityEnv, podSpec } from './fixtures.ts';
import { asDeployment, asPodDisruptionBudget, asRbacRole, asRoleBinding, validateManifest } from './validate.ts';

const skipSchema = { skipSchemaValidation: true };

async function render(values: Values, releaseName = 'cron', namespace = 'tenant-a') {
  const docs = await helmTemplate(values, { releaseName, namespace });
  return { docs, deployment: asDeployment(one(docs, 'Deployment')) };
}

/** The Kubernetes RBAC Roles (not the OpenFaaS IAM Role, which shares the kind). */
function rbacRoles(docs: readonly Manifest[]): Manifest[] {
  return ofKind(docs, 'Role').filter((doc) => doc.apiVersion === 'rbac.authorization.k8s.io/v1');
}

function rbacRole(docs: readonly Manifest[]) {
  const roles = rbacRoles(docs);
  const [role] = roles;
  if (roles.length !== 1 || !role) throw new Error(`expected one RBAC Role, found ${String(roles.length)}`);
  return asRbacRole(role);
}

/** The rules the connector needs: get and update on its Lease, create on Leases. */
function leaseRules(leaseName: string) {
  return [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [leaseName], verbs: ['get', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  ];
}

const selector = { 'app.kubernetes.io/name': 'cron-connector', 'app.kubernetes.io/instance': 'cron' };

const defaultSpread = [
  {
    maxSkew: 1,
    topologyKey: 'kubernetes.io/hostname',
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
    matchLabelKeys: ['pod-template-hash'],
  },
];

const leaderEnv = {
  leader_election: 'true',
  lease_name: 'cron-cron-connector',
  lease_duration: '15s',
  renew_deadline: '10s',
  retry_period: '2s',
};

describe.each([
  { auth: 'IAM', values: iamValues() },
  { auth: 'basic auth', values: basicAuthValues() },
])('one replica (the default), with $auth', ({ values }) => {
  it('runs one Pod, recreated on upgrade, without leader election or an API token', async () => {
    const { deployment } = await render(values);
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.strategy).toEqual({ type: 'Recreate' });
    expect(podSpec(deployment).automountServiceAccountToken).toBe(false);
    const env = envOf(deployment);
    expect(env.leader_election).toBe('false');
    for (const name of ['lease_name', 'lease_namespace', 'lease_duration', 'renew_deadline', 'retry_period']) {
      expect(env).not.toHaveProperty(name);
    }
  });

  it('still passes the Pod name and namespace from the downward API', async () => {
    const { deployment } = await render(values);
    expect(envOf(deployment)).toMatchObject(podIdentityEnv);
  });

  it('creates no RBAC Role, RoleBinding or PodDisruptionBudget, and no spread', async () => {
    const { docs, deployment } = await render(values);
    expect(rbacRoles(docs)).toEqual([]);
    expect(ofKind(docs, 'RoleBinding')).toEqual([]);
    expect(ofKind(docs, 'PodDisruptionBudget')).toEqual([]);
    expect(podSpec(deployment).topologySpreadConstraints).toBeUndefined();
  });
});

describe('replicas: 2', () => {
  const values = iamValues([], { replicas: 2 });

  it('runs two Pods with leader election on, on a Lease named after the release', async () => {
    const { deployment } = await render(values);
    expect(deployment.spec?.replicas).toBe(2);
    expect(envOf(deployment)).toMatchObject({ ...leaderEnv, ...podIdentityEnv });
    expect(envOf(deployment)).not.toHaveProperty('lease_namespace');
  });

  it('sets the identity from metadata.name and the namespace from metadata.namespace', async () => {
    const { deployment } = await render(values);
    const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'POD_NAME')).toEqual({
      name: 'POD_NAME',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    expect(env.find((e) => e.name === 'POD_NAMESPACE')).toEqual({
      name: 'POD_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    });
  });

  it('mounts the API token in the Pod, not by default for the ServiceAccount', async () => {
    const { docs, deployment } = await render(values);
    expect(podSpec(deployment).automountServiceAccountToken).toBe(true);
    expect(one(docs, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('grants get and update on its Lease and create on Leases, in the release namespace, and nothing else', async () => {
    const { docs } = await render(values);
    const role = rbacRole(docs);
    expect(role.metadata?.namespace).toBe('tenant-a');
    expect(role.metadata?.name).toBe('cron-cron-connector');
    expect(role.rules).toEqual(leaseRules('cron-cron-connector'));
  });

  it('binds the Role to the ServiceAccount the Pod runs as', async () => {
    const { docs, deployment } = await render(values);
    const binding = asRoleBinding(one(docs, 'RoleBinding'));
    const serviceAccount = one(docs, 'ServiceAccount');
    expect(binding.metadata?.namespace).toBe('tenant-a');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: rbacRole(docs).metadata?.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace: 'tenant-a' }]);
    expect(podSpec(deployment).serviceAccountName).toBe(serviceAccount.metadata.name);
  });

  it('keeps the OpenFaaS IAM objects as they are', async () => {
    const { docs } = await render(values);
    expect(docs.map((d) => `${d.apiVersion}/${d.kind}`).sort()).toEqual([
      'apps/v1/Deployment',
      'iam.openfaas.com/v1/Policy',
      'iam.openfaas.com/v1/Role',
      'policy/v1/PodDisruptionBudget',
      'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
      'v1/ServiceAccount',
    ]);
  });

  it('has a PodDisruptionBudget letting one Pod go at a time', async () => {
    const { docs, deployment } = await render(values);
    const budget = asPodDisruptionBudget(one(docs, 'PodDisruptionBudget'));
    expect(budget.metadata?.namespace).toBe('tenant-a');
    expect(budget.spec).toEqual({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: deployment.spec?.selector.matchLabels },
    });
  });

  it('spreads the Pods over nodes, preferably', async () => {
    const { deployment } = await render(values);
    expect(podSpec(deployment).topologySpreadConstraints).toEqual(defaultSpread);
  });

  it('rolls out new Pods before stopping old ones', async () => {
    const { deployment } = await render(values);
    expect(deployment.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('renders objects that validate', async () => {
    const { docs } = await render(values);
    for (const doc of docs) validateManifest(doc);
  });
});

describe('leader election settings', () => {
  it('pass leaseName and the durations to the connector and the Role', async () => {
    const values = iamValues([], {
      replicas: 3,
      leaderElection: { leaseName: 'cron.tenant-a', leaseDuration: '1m', renewDeadline: '40s', retryPeriod: '5s' },
    });
    const { docs, deployment } = await render(values);
    expect(deployment.spec?.replicas).toBe(3);
    expect(envOf(deployment)).toMatchObject({
      leader_election: 'true',
      lease_name: 'cron.tenant-a',
      lease_duration: '1m',
      renew_deadline: '40s',
      retry_period: '5s',
    });
    expect(rbacRole(docs).rules).toEqual(leaseRules('cron.tenant-a'));
  });

  it('follow fullnameOverride for the default Lease name', async () => {
    const { docs, deployment } = await render(iamValues([], { replicas: 2, fullnameOverride: 'nightly' }));
    expect(envOf(deployment).lease_name).toBe('nightly');
    expect(rbacRole(docs).rules?.[0]?.resourceNames).toEqual(['nightly']);
  });

  it('give two releases in one namespace distinct Leases and RBAC objects', async () => {
    const [a, b] = await Promise.all([
      render(iamValues([], { replicas: 2 }), 'cron-dev', 'tenants'),
      render(iamValues([], { replicas: 2 }), 'cron-staging', 'tenants'),
    ]);
    expect(envOf(a.deployment).lease_name).toBe('cron-dev-cron-connector');
    expect(envOf(b.deployment).lease_name).toBe('cron-staging-cron-connector');
    const ids = (docs: readonly Manifest[]) => docs.map((d) => `${d.apiVersion}/${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`);
    expect(ids(a.docs).filter((id) => ids(b.docs).includes(id))).toEqual([]);
  });
});

describe('leaderElection.enabled: true with one replica', () => {
  const values = iamValues([], { leaderElection: { enabled: true } });

  it('runs one Pod with leader election, its Role and RoleBinding, and a RollingUpdate', async () => {
    const { docs, deployment } = await render(values);
    expect(deployment.spec?.replicas).toBe(1);
    expect(envOf(deployment)).toMatchObject(leaderEnv);
    expect(podSpec(deployment).automountServiceAccountToken).toBe(true);
    expect(rbacRole(docs).rules).toEqual(leaseRules('cron-cron-connector'));
    expect(ofKind(docs, 'RoleBinding')).toHaveLength(1);
    expect(deployment.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('has no PodDisruptionBudget and no spread, which one Pod does not need', async () => {
    const { docs, deployment } = await render(values);
    expect(ofKind(docs, 'PodDisruptionBudget')).toEqual([]);
    expect(podSpec(deployment).topologySpreadConstraints).toBeUndefined();
  });
});

describe('the ServiceAccount with leader election', () => {
  it('is created without IAM, for the RoleBinding', async () => {
    const { docs, deployment } = await render(basicAuthValues({ replicas: 2 }));
    const serviceAccount = one(docs, 'ServiceAccount');
    expect(serviceAccount.metadata).toMatchObject({ name: 'cron-cron-connector', namespace: 'tenant-a' });
    expect(podSpec(deployment).serviceAccountName).toBe('cron-cron-connector');
    expect(asRoleBinding(one(docs, 'RoleBinding')).subjects?.[0]?.name).toBe('cron-cron-connector');
    expect(ofKind(docs, 'Policy')).toEqual([]);
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'ServiceAccount']);
  });

  it('is not created without IAM and without leader election', async () => {
    const { docs, deployment } = await render(basicAuthValues());
    expect(ofKind(docs, 'ServiceAccount')).toEqual([]);
    expect(podSpec(deployment).serviceAccountName).toBe('default');
  });

  it('takes serviceAccount.name', async () => {
    const { docs, deployment } = await render(basicAuthValues({ replicas: 2, serviceAccount: { name: 'cron-sa' } }));
    expect(one(docs, 'ServiceAccount').metadata.name).toBe('cron-sa');
    expect(podSpec(deployment).serviceAccountName).toBe('cron-sa');
    expect(asRoleBinding(one(docs, 'RoleBinding')).subjects?.[0]?.name).toBe('cron-sa');
  });

  it('may be an existing one, which the RoleBinding names', async () => {
    const { docs, deployment } = await render(basicAuthValues({ replicas: 2, serviceAccount: { create: false, name: 'cron-sa' } }));
    expect(ofKind(docs, 'ServiceAccount')).toEqual([]);
    expect(podSpec(deployment).serviceAccountName).toBe('cron-sa');
    expect(asRoleBinding(one(docs, 'RoleBinding')).subjects).toEqual([{ kind: 'ServiceAccount', name: 'cron-sa', namespace: 'tenant-a' }]);
  });

  it('must be named when not created, rather than granting the Lease to "default"', async () => {
    const message = await helmTemplateError(basicAuthValues({ replicas: 2, serviceAccount: { create: false } }));
    expect(message).toContain('serviceAccount.name is required when leader election is on and serviceAccount.create=false');
    expect(message).toContain('every Pod of the namespace that runs as default');
  });
});

describe('the PodDisruptionBudget', () => {
  it('takes a percentage', async () => {
    const { docs } = await render(iamValues([], { replicas: 3, podDisruptionBudget: { maxUnavailable: '50%' } }));
    expect(asPodDisruptionBudget(one(docs, 'PodDisruptionBudget')).spec?.maxUnavailable).toBe('50%');
  });

  it('can be turned off with several replicas, and on with one', async () => {
    const off = await render(iamValues([], { replicas: 2, podDisruptionBudget: { enabled: false } }));
    expect(ofKind(off.docs, 'PodDisruptionBudget')).toEqual([]);
    const on = await render(iamValues([], { podDisruptionBudget: { enabled: true } }));
    expect(asPodDisruptionBudget(one(on.docs, 'PodDisruptionBudget')).spec?.maxUnavailable).toBe(1);
  });

  it.each([0, '0%', '101%', 'one'])('refuses maxUnavailable %j, which would block drains or is no number', async (maxUnavailable) => {
    const values = iamValues([], { replicas: 2, podDisruptionBudget: { maxUnavailable } });
    expect(await helmTemplateError(values)).toContain("at '/podDisruptionBudget/maxUnavailable'");
    expect(await helmTemplateError(values, skipSchema)).toContain(
      `podDisruptionBudget.maxUnavailable ${String(maxUnavailable)} must be a whole number of Pods, at least 1, or a percentage from 1% to 100%`,
    );
  });
});

describe('topologySpreadConstraints', () => {
  const zones = [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: selector },
    },
  ];

  it('are replaced by a given list', async () => {
    const { deployment } = await render(iamValues([], { replicas: 2, topologySpreadConstraints: zones }));
    expect(podSpec(deployment).topologySpreadConstraints).toEqual(zones);
  });

  it('are turned off by []', async () => {
    const { deployment } = await render(iamValues([], { replicas: 2, topologySpreadConstraints: [] }));
    expect(podSpec(deployment).topologySpreadConstraints).toBeUndefined();
  });

  it('are used with one replica when given', async () => {
    const { deployment } = await render(iamValues([], { topologySpreadConstraints: zones }));
    expect(podSpec(deployment).topologySpreadConstraints).toEqual(zones);
  });

  it('must be a list', async () => {
    const message = await helmTemplateError(iamValues([], { replicas: 2, topologySpreadConstraints: zones[0] }));
    expect(message).toContain("at '/topologySpreadConstraints'");
  });
});

describe('the strategy', () => {
  it('given by the user wins over the computed one', async () => {
    const recreate = await render(iamValues([], { replicas: 2, strategy: { type: 'Recreate' } }));
    expect(recreate.deployment.spec?.strategy).toEqual({ type: 'Recreate' });
    const rolling = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
    const custom = await render(iamValues([], { replicas: 3, strategy: rolling }));
    expect(custom.deployment.spec?.strategy).toEqual(rolling);
  });
});

describe('refused at install time', () => {
  it('replicas > 1 with leaderElection.enabled=false, saying why and what to set', async () => {
    const values = iamValues([], { replicas: 2, leaderElection: { enabled: false } });
    for (const message of [await helmTemplateError(values), await helmTemplateError(values, skipSchema)]) {
      expect(message).toContain(
        'replicas 2 with leaderElection.enabled=false is refused: every replica would fire every schedule, so each function would be invoked 2 times per slot. Set leaderElection.enabled=true (or leave it unset: it turns on when replicas > 1) so that only the leader invokes, or set replicas=1',
      );
    }
  });

  it.each([0, 1.5, -1])('replicas %j', async (replicas) => {
    const values = iamValues([], { replicas });
    expect(await helmTemplateError(values)).toContain("at '/replicas'");
    expect(await helmTemplateError(values, skipSchema)).toContain(`replicas ${String(replicas)} must be a whole number, at least 1`);
  });

  it('leaderElection.enabled that is not a boolean or null', async () => {
    const values = iamValues([], { leaderElection: { enabled: 'yes' } });
    expect(await helmTemplateError(values)).toContain("at '/leaderElection/enabled'");
    expect(await helmTemplateError(values, skipSchema)).toContain('leaderElection.enabled yes must be true, false, or null');
  });

  it.each(['Cron', 'cron_connector', '-cron', 'cron.', 'cron..a', 'cron/a', `${'a'.repeat(250)}.com`])(
    'leaderElection.leaseName %j, which is no DNS-1123 subdomain',
    async (leaseName) => {
      const values = iamValues([], { replicas: 2, leaderElection: { leaseName } });
      expect(await helmTemplateError(values)).toContain("at '/leaderElection/leaseName'");
      expect(await helmTemplateError(values, skipSchema)).toContain(
        `leaderElection.leaseName ${JSON.stringify(leaseName)} is not a DNS-1123 subdomain, so Kubernetes would refuse the Lease`,
      );
    },
  );

  it('accepts a DNS-1123 subdomain as leaseName', async () => {
    const leaseName = `${'a'.repeat(63)}.${'b'.repeat(63)}.c-1`;
    const { deployment } = await render(iamValues([], { replicas: 2, leaderElection: { leaseName } }));
    expect(envOf(deployment).lease_name).toBe(leaseName);
  });

  // The connector's bounds (lease_duration, renew_deadline, retry_period).
  const bounds = {
    leaseDuration: { env: 'lease_duration', minMs: 1000, maxMs: 600_000, range: 'from 1s to 10m' },
    renewDeadline: { env: 'renew_deadline', minMs: 500, maxMs: 600_000, range: 'from 500ms to 10m' },
    retryPeriod: { env: 'retry_period', minMs: 100, maxMs: 60_000, range: 'from 100ms to 1m' },
  } as const;

  it("agree with the connector's bounds, once it declares them", () => {
    const declared = DURATION_BOUNDS as Readonly<Record<string, { minMs: number; maxMs: number } | undefined>>;
    for (const { env, minMs, maxMs } of Object.values(bounds)) {
      const connector = declared[env];
      if (connector) expect({ minMs: connector.minMs, maxMs: connector.maxMs }, env).toEqual({ minMs, maxMs });
    }
  });

  const outOfRange: { key: keyof typeof bounds; value: string; others?: Values }[] = [
    { key: 'leaseDuration', value: '999ms' },
    { key: 'leaseDuration', value: '10m1s' },
    { key: 'leaseDuration', value: '15' },
    { key: 'renewDeadline', value: '499ms', others: { retryPeriod: '100ms' } },
    { key: 'renewDeadline', value: '11m', others: { leaseDuration: '10m' } },
    { key: 'retryPeriod', value: '99ms' },
    { key: 'retryPeriod', value: '1m1s', others: { leaseDuration: '10m', renewDeadline: '5m' } },
    { key: 'retryPeriod', value: '-1s' },
  ];

  it.each(outOfRange)('leaderElection.$key $value, naming the value and the range', async ({ key, value, others }) => {
    const values = iamValues([], { replicas: 2, leaderElection: { ...others, [key]: value } });
    for (const message of [await helmTemplateError(values), await helmTemplateError(values, skipSchema)]) {
      expect(message).toContain(`leaderElection.${key} ${JSON.stringify(value)} must be a Go duration ${bounds[key].range}, e.g. `);
      expect(message).toContain('the connector would refuse to start with it');
    }
    // The chart's bounds are the connector's parse of the value.
    const ms = parseDuration(value);
    expect(ms === undefined || ms < bounds[key].minMs || ms > bounds[key].maxMs).toBe(true);
  });

  it('a duration that is not a string', async () => {
    const message = await helmTemplateError(iamValues([], { leaderElection: { leaseDuration: 15 } }));
    expect(message).toContain("at '/leaderElection/leaseDuration'");
  });

  it('renewDeadline not shorter than leaseDuration', async () => {
    const values = iamValues([], { replicas: 2, leaderElection: { leaseDuration: '10s', renewDeadline: '10000ms' } });
    expect(await helmTemplateError(values)).toContain(
      'leaderElection.renewDeadline "10000ms" must be shorter than leaderElection.leaseDuration "10s": a leader that cannot renew must stop invoking before its Lease expires',
    );
  });

  it('retryPeriod not shorter than renewDeadline', async () => {
    const values = iamValues([], { replicas: 2, leaderElection: { renewDeadline: '2s', retryPeriod: '3s' } });
    const message = await helmTemplateError(values);
    expect(message).toContain('leaderElection.retryPeriod "3s" must be shorter than leaderElection.renewDeadline "2s"');
    expect(message).toContain('Keep leaseDuration > renewDeadline > retryPeriod, e.g. 15s, 10s and 2s (the defaults)');
  });

  it('even with leader election off, so turning it on later cannot surprise', async () => {
    const message = await helmTemplateError(iamValues([], { leaderElection: { retryPeriod: '2m' } }));
    expect(message).toContain('leaderElection.retryPeriod "2m" must be a Go duration from 100ms to 1m');
  });

  it('accepts every lower bound and every upper bound, in order', async () => {
    const low = await render(iamValues([], { replicas: 2, leaderElection: { leaseDuration: '1s', renewDeadline: '500ms', retryPeriod: '100ms' } }));
    expect(envOf(low.deployment)).toMatchObject({ lease_duration: '1s', renew_deadline: '500ms', retry_period: '100ms' });
    const high = await render(iamValues([], { replicas: 2, leaderElection: { leaseDuration: '10m', renewDeadline: '9m59s', retryPeriod: '1m' } }));
    expect(envOf(high.deployment)).toMatchObject({ lease_duration: '10m', renew_deadline: '9m59s', retry_period: '1m' });
  });
});

describe('NOTES.txt with leader election', () => {
  it('says what each replica does and how to see the leader', async () => {
    const notes = await helmNotes(iamValues([], { replicas: 2 }), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('Leader election: 2 replicas share Lease tenant-a/cron-cron-connector');
    expect(notes).toContain("kubectl get lease cron-cron-connector -n tenant-a -o jsonpath='{.spec.holderIdentity}'");
  });

  it('says how to run standbys when there is one replica without leader election', async () => {
    const notes = await helmNotes(iamValues(), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).not.toContain('kubectl get lease');
    expect(notes).toContain('replicas=2');
  });
});
