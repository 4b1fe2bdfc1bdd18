// docs/chart.md and the chart's README show what the chart really renders and defaults to.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir, helmTemplate, one, repoRoot, type Values } from './helm.ts';
import { iamValues } from './fixtures.ts';

const chartDoc = readFileSync(path.join(repoRoot, 'docs', 'chart.md'), 'utf8');
const chartReadme = readFileSync(path.join(chartDir, 'README.md'), 'utf8');
const values = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Values & {
  resources: { requests: { memory: string }; limits: { memory: string } };
  leaderElection: Record<string, string>;
};

describe('docs/chart.md', () => {
  it('names the objects as helm renders them for release cron in tenant-a and tenant-b, as the README does', async () => {
    for (const namespace of ['tenant-a', 'tenant-b']) {
      const docs = await helmTemplate(iamValues(), { releaseName: 'cron', namespace });
      expect(chartDoc).toContain(`policy.iam.openfaas.com/${one(docs, 'Policy').metadata.name}`);
      expect(chartDoc).toContain(`role.iam.openfaas.com/${one(docs, 'Role').metadata.name}`);
    }
    const docs = await helmTemplate(iamValues(), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(chartDoc).toContain(`name: ${one(docs, 'Policy').metadata.name}`);
    expect(chartDoc).toContain(`system:serviceaccount:tenant-a:${one(docs, 'ServiceAccount').metadata.name}`);
    expect(chartDoc).toContain(`deploy/${one(docs, 'Deployment').metadata.name}`);
    expect(chartDoc).not.toMatch(/helm upgrade --install cron-connector /);
  });

  it('says jwtAuth grants Function:Invoke, as the Policy does', async () => {
    const docs = await helmTemplate(iamValues([], { jwtAuth: true }), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(JSON.stringify(one(docs, 'Policy'))).toContain('Function:Invoke');
    expect(chartDoc).toContain('set `jwtAuth: true`\nand the chart adds `Function:Invoke`');
    expect(chartDoc).not.toMatch(/which this chart does not grant/);
  });

  it('shows the leader-election Role and the leader of release cron in tenant-a as helm renders them', async () => {
    const docs = await helmTemplate(iamValues([], { replicas: 2 }), { releaseName: 'cron', namespace: 'tenant-a' });
    const role = docs.find((d) => d.kind === 'Role' && d.apiVersion === 'rbac.authorization.k8s.io/v1');
    expect(role?.metadata.name).toBe('cron-cron-connector');
    expect(chartDoc).toContain(`kind: Role\nmetadata:\n  name: ${role?.metadata.name ?? ''}\n  namespace: tenant-a\nrules:`);
    expect(chartDoc).toContain(`resourceNames: [${role?.metadata.name ?? ''}]`);
    expect(chartDoc).toContain(`kubectl get lease ${role?.metadata.name ?? ''} -n tenant-a -o jsonpath='{.spec.holderIdentity}'`);
  });

  it('states the leader-election defaults of values.yaml and uses two replicas for production', () => {
    const { leaderElection } = values;
    for (const key of ['leaseDuration', 'renewDeadline', 'retryPeriod']) {
      expect(chartDoc).toContain(`| \`leaderElection.${key}\` | \`${leaderElection[key] ?? ''}\` |`);
    }
    expect(chartDoc).toContain('# tenant-a.yaml: production\nreplicas: 2\n');
    expect(chartDoc).not.toMatch(/future work|There is no `replicaCount`|always 1 replica|creates no RBAC objects/);
  });

  it('lists every top-level value of values.yaml', () => {
    const missing = Object.keys(values).filter((key) => !chartDoc.includes(`\`${key}`));
    expect(missing).toEqual([]);
  });

  it('states the default memory request and limit of values.yaml in its values and sizing tables', () => {
    const { requests, limits } = values.resources;
    expect(chartDoc).toContain(`requests \`50m\` CPU, \`${requests.memory}\` memory; limit \`${limits.memory}\` memory`);
    expect(chartDoc).toContain(`| up to 1,000 | 127 MiB | \`${requests.memory}\` (default) | \`${limits.memory}\` (default) |`);
  });
});

describe("the chart's README", () => {
  it('installs release cron without naming values the defaults already have', () => {
    expect(chartReadme).toContain('helm upgrade --install cron ./chart/cron-connector');
    expect(chartReadme).not.toContain('--set iam.enabled=true');
  });
});
