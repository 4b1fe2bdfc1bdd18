import { describe, expect, it } from 'vitest';
import { helmTemplate, one, type Manifest } from './helm.ts';
import { iamValues } from './fixtures.ts';

interface Release {
  releaseName: string;
  namespace: string;
  resource: string[];
}

const pairs: { scenario: string; a: Release; b: Release }[] = [
  {
    scenario: 'two releases in the same namespace',
    a: { releaseName: 'cron-dev', namespace: 'tenants', resource: ['dev:*'] },
    b: { releaseName: 'cron-staging', namespace: 'tenants', resource: ['staging:*'] },
  },
  {
    // The upstream chart names IAM objects after the release only: these two collide there.
    scenario: 'the same release name in two namespaces',
    a: { releaseName: 'cron-connector', namespace: 'tenant-a', resource: ['tenant-a:*'] },
    b: { releaseName: 'cron-connector', namespace: 'tenant-b', resource: ['tenant-b:*'] },
  },
  {
    // "<namespace>-<fullname>" is the same string for both; the hash tells them apart.
    scenario: 'namespace and release names that concatenate alike',
    a: { releaseName: 'x', namespace: 'team-a', resource: ['team-a:*'] },
    b: { releaseName: 'a-x', namespace: 'team', resource: ['team:*'] },
  },
  {
    scenario: 'long names that are truncated alike',
    a: { releaseName: `${'r'.repeat(40)}-one`, namespace: 'n'.repeat(40), resource: ['one:*'] },
    b: { releaseName: `${'r'.repeat(40)}-two`, namespace: 'n'.repeat(40), resource: ['two:*'] },
  },
];

function render(release: Release): Promise<Manifest[]> {
  const { releaseName, namespace, resource } = release;
  return helmTemplate(iamValues(resource), { releaseName, namespace });
}

function identities(docs: readonly Manifest[]): string[] {
  return docs.map((d) => `${d.apiVersion}/${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`);
}

describe.each(pairs)('$scenario', ({ a, b }) => {
  it('never share an object', async () => {
    const [docsA, docsB] = await Promise.all([render(a), render(b)]);
    const shared = identities(docsA).filter((id) => identities(docsB).includes(id));
    expect(shared).toEqual([]);
  });

  it('get distinct Policy and Role names in the shared IAM namespace', async () => {
    const [docsA, docsB] = await Promise.all([render(a), render(b)]);
    for (const kind of ['Policy', 'Role']) {
      const [objA, objB] = [one(docsA, kind), one(docsB, kind)];
      expect(objA.metadata.namespace).toBe('openfaas');
      expect(objB.metadata.namespace).toBe('openfaas');
      expect(objA.metadata.name).not.toBe(objB.metadata.name);
      expect(objA.metadata.name.length).toBeLessThanOrEqual(63);
    }
  });

  it('each bind their own Policy to their own ServiceAccount', async () => {
    for (const release of [a, b]) {
      const docs = await render(release);
      const role = one(docs, 'Role') as Manifest & { spec: { policy: string[]; principal: Record<string, string[]> } };
      const serviceAccount = one(docs, 'ServiceAccount');
      expect(role.spec.policy).toEqual([one(docs, 'Policy').metadata.name]);
      expect(role.spec.principal['jwt:sub']).toEqual([
        `system:serviceaccount:${release.namespace}:${serviceAccount.metadata.name}`,
      ]);
    }
  });
});

describe('IAM object names across upgrades', () => {
  it('depend on the release and its namespace only, not on other values', async () => {
    const release = { releaseName: 'cron', namespace: 'tenant-a' };
    const before = await helmTemplate(iamValues(['dev:*']), release);
    const after = await helmTemplate(iamValues(['dev:*', 'staging:*'], { topic: 'other' }), release);
    expect(one(after, 'Policy').metadata.name).toBe(one(before, 'Policy').metadata.name);
    expect(one(after, 'Role').metadata.name).toBe(one(before, 'Role').metadata.name);
  });
});
