import { describe, expect, it } from 'vitest';
import { helmTemplate, ofKind, one, type Manifest, type Values } from './helm.ts';
import { iamValues, kubernetesIssuer, podSpec } from './fixtures.ts';
import { asDeployment, validateIam } from './validate.ts';

interface PolicySpec {
  statement: { sid: string; effect: string; action: string[]; resource: string[] }[];
}
interface RoleSpec {
  policy: string[];
  principal: Record<string, string[]>;
  condition: Record<string, Record<string, string[]>>;
}

async function renderIam(values: Values, releaseName = 'cron', namespace = 'tenant-a') {
  const docs = await helmTemplate(values, { releaseName, namespace });
  const policy = one(docs, 'Policy') as Manifest & { spec: PolicySpec };
  const role = one(docs, 'Role') as Manifest & { spec: RoleSpec };
  return { docs, policy, role, deployment: asDeployment(one(docs, 'Deployment')) };
}

const scopes: { scenario: string; values: Values; resource: string[] }[] = [
  { scenario: 'one namespace', values: iamValues(['dev:*']), resource: ['dev:*'] },
  {
    scenario: 'several namespaces',
    values: iamValues(['dev:*', 'staging:*', 'team-b:*']),
    resource: ['dev:*', 'staging:*', 'team-b:*'],
  },
  { scenario: 'the whole cluster', values: iamValues(['*']), resource: ['*'] },
  // iam.resource left at its default, [].
  {
    scenario: 'the release namespace (default)',
    values: { iam: { systemIssuer: { url: 'https://gateway.example.com' } } },
    resource: ['tenant-a:*'],
  },
  { scenario: 'an empty iam.resource', values: iamValues([]), resource: ['tenant-a:*'] },
];

describe.each(scopes)('IAM objects for $scenario', ({ values, resource }) => {
  it('has a Policy allowing exactly Function:List and Namespace:List on iam.resource', async () => {
    const { policy } = await renderIam(values);
    expect(policy.apiVersion).toBe('iam.openfaas.com/v1');
    expect(policy.metadata.namespace).toBe('openfaas');
    expect(policy.spec).toEqual({
      statement: [{ sid: '1-fn-r', effect: 'Allow', action: ['Function:List', 'Namespace:List'], resource }],
    });
  });

  it('adds Function:Invoke on the same resources only when jwtAuth is on, and tells the connector', async () => {
    const { policy, deployment } = await renderIam({ ...values, jwtAuth: true });
    expect(policy.spec.statement).toEqual([
      { sid: '1-fn-r', effect: 'Allow', action: ['Function:List', 'Namespace:List', 'Function:Invoke'], resource },
    ]);
    const env = podSpec(deployment).containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'jwt_auth')?.value).toBe('true');
  });

  it('has a Role binding that Policy to the release ServiceAccount, for cluster-issued tokens', async () => {
    const { docs, policy, role, deployment } = await renderIam(values);
    const serviceAccount = one(docs, 'ServiceAccount');
    expect(role.apiVersion).toBe('iam.openfaas.com/v1');
    expect(role.metadata.namespace).toBe('openfaas');
    expect(serviceAccount.metadata.namespace).toBe('tenant-a');
    expect(podSpec(deployment).serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(role.spec).toEqual({
      policy: [policy.metadata.name],
      principal: { 'jwt:sub': [`system:serviceaccount:tenant-a:${serviceAccount.metadata.name}`] },
      condition: { StringEqual: { 'jwt:iss': [kubernetesIssuer] } },
    });
  });

  it('validates the Policy and Role against the IAM schema', async () => {
    const { policy, role } = await renderIam(values);
    expect(() => validateIam(policy)).not.toThrow();
    expect(() => validateIam(role)).not.toThrow();
  });

  it('labels the IAM objects with the release and its namespace', async () => {
    const { policy, role } = await renderIam(values);
    for (const obj of [policy, role]) {
      expect(obj.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'cron-connector',
        'app.kubernetes.io/instance': 'cron',
        'app.kubernetes.io/managed-by': 'Helm',
        'cron-connector.openfaas.com/release-namespace': 'tenant-a',
      });
    }
  });
});

describe('IAM object names', () => {
  it('start with the release namespace and full name and end with a short hash', async () => {
    const { policy, role } = await renderIam(iamValues(['dev:*']));
    expect(policy.metadata.name).toMatch(/^tenant-a-cron-cron-connector-[0-9a-f]{8}$/);
    expect(role.metadata.name).toBe(policy.metadata.name);
  });

  it('are truncated to 63 characters, keeping the hash', async () => {
    const { policy, role } = await renderIam(iamValues(['dev:*']), 'r'.repeat(40), 'n'.repeat(30));
    expect(policy.metadata.name).toMatch(/^n{30}-r{23}-[0-9a-f]{8}$/);
    expect(role.spec.policy).toEqual([policy.metadata.name]);
  });

  it('stay valid for the longest release and namespace names', async () => {
    const { policy } = await renderIam(iamValues(['dev:*']), 'r'.repeat(53), 'n'.repeat(63));
    expect(policy.metadata.name.length).toBeLessThanOrEqual(63);
    expect(() => validateIam(policy)).not.toThrow();
  });
});

describe('IAM with custom issuer, namespace and token lifetime', () => {
  const values = iamValues(['dev:*', 'staging:*', 'team-b:*'], {
    iam: {
      namespace: 'openfaas-system',
      kubernetesIssuer: { url: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE' },
      tokenExpirationSeconds: 3600,
    },
    serviceAccount: { annotations: { 'example.com/owner': 'team-b' } },
  });

  it('creates the Policy and Role in iam.namespace', async () => {
    const { policy, role } = await renderIam(values);
    expect(policy.metadata.namespace).toBe('openfaas-system');
    expect(role.metadata.namespace).toBe('openfaas-system');
  });

  it('conditions the Role on iam.kubernetesIssuer.url', async () => {
    const { role } = await renderIam(values);
    expect(role.spec.condition).toEqual({
      StringEqual: { 'jwt:iss': ['https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE'] },
    });
  });

  it('annotates the ServiceAccount', async () => {
    const { docs } = await renderIam(values);
    expect(one(docs, 'ServiceAccount').metadata).toMatchObject({
      annotations: { 'example.com/owner': 'team-b' },
    });
  });
});

describe('IAM with an existing ServiceAccount', () => {
  const values = iamValues(['dev:*'], { serviceAccount: { create: false, name: 'cron-sa' } });

  it('creates no ServiceAccount and names the existing one as principal', async () => {
    const { docs, role, deployment } = await renderIam(values);
    expect(ofKind(docs, 'ServiceAccount')).toEqual([]);
    expect(podSpec(deployment).serviceAccountName).toBe('cron-sa');
    expect(role.spec.principal).toEqual({ 'jwt:sub': ['system:serviceaccount:tenant-a:cron-sa'] });
  });
});

describe('the default scope', () => {
  it('is the namespace of each release', async () => {
    for (const namespace of ['tenant-a', 'tenant-b']) {
      const { policy } = await renderIam(iamValues(), 'cron', namespace);
      expect(policy.spec.statement[0]?.resource).toEqual([`${namespace}:*`]);
    }
  });

  it('never widens to every namespace unless "*" is asked for', async () => {
    const { policy } = await renderIam({ iam: { systemIssuer: { url: 'https://gateway.example.com' } } });
    expect(JSON.stringify(policy.spec)).not.toContain('"*"');
  });
});

describe('without IAM', () => {
  it('creates no ServiceAccount, Policy or Role', async () => {
    const docs = await helmTemplate({ iam: { enabled: false, resource: ['dev:*'] } });
    expect(docs.map((d) => d.kind)).toEqual(['Deployment']);
  });
});

describe('the IAM schema', () => {
  it('rejects a Policy with a wider action, a bad resource or another effect', async () => {
    const { policy } = await renderIam(iamValues(['dev:*']));
    const statement = policy.spec.statement[0];
    if (!statement) throw new Error('no statement');
    const variants = [
      { ...statement, action: ['Function:List', 'Namespace:Lists'] },
      { ...statement, resource: ['dev'] },
      { ...statement, effect: 'Deny' },
      { ...statement, extra: true },
    ];
    for (const variant of variants) {
      expect(() => validateIam({ ...policy, spec: { statement: [variant] } })).toThrow(/invalid IAM object/);
    }
  });

  it('rejects a Role whose condition is not on a jwt claim', async () => {
    const { role } = await renderIam(iamValues(['dev:*']));
    const bad = { ...role, spec: { ...role.spec, condition: { StringEqual: { iss: ['x'] } } } };
    expect(() => validateIam(bad)).toThrow(/invalid IAM object/);
  });
});
