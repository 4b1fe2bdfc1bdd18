// Every scenario under chart/cron-connector/ci/ lints with --strict and renders objects that
// validate: Kubernetes kinds (RBAC and PodDisruptionBudget included) against the Kubernetes
// OpenAPI models, IAM kinds against the IAM schema.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir, ciDir, ciValuesFiles, helmLint, helmTemplate, type Values } from './helm.ts';
import { validateManifest } from './validate.ts';

const scenarios = ciValuesFiles();

function readValues(file: string): Values {
  return parse(readFileSync(path.join(ciDir, file), 'utf8')) as Values;
}

const valuesSchema = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')) as object,
);

describe('the scenario values files', () => {
  it('cover every branch of the chart', () => {
    expect(scenarios).toEqual(
      expect.arrayContaining([
        'basic-auth-values.yaml',
        'custom-security-context-values.yaml',
        'iam-cluster-wide-values.yaml',
        'iam-existing-service-account-values.yaml',
        'iam-one-namespace-values.yaml',
        'iam-release-namespace-values.yaml',
        'iam-several-resources-values.yaml',
        'leader-election-basic-auth-values.yaml',
        'leader-election-one-replica-values.yaml',
        'monitoring-values.yaml',
        'network-policy-values.yaml',
        'no-auth-values.yaml',
        'production-values.yaml',
        'service-monitor-values.yaml',
        'upstream-compat-values.yaml',
      ]),
    );
  });
});

describe('helm lint --strict', () => {
  it('passes with the default values', async () => {
    const result = await helmLint();
    expect(result.output).toContain('0 chart(s) failed');
    expect(result.ok).toBe(true);
  });

  it.each(scenarios)('passes with ci/%s', async (file) => {
    const result = await helmLint(file);
    expect(result.output).toContain('0 chart(s) failed');
    expect(result.output).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.ok).toBe(true);
  });
});

describe.each(scenarios)('ci/%s', (file) => {
  it('renders objects that validate', async () => {
    const docs = await helmTemplate(readValues(file), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) validateManifest(doc);
  });

  it('renders objects with standard labels, a namespace and a DNS-1123 name', async () => {
    const docs = await helmTemplate(readValues(file), { releaseName: 'cron', namespace: 'tenant-a' });
    for (const doc of docs) {
      expect(doc.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      expect(doc.metadata.namespace).toBeTruthy();
      expect(doc.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'cron-connector',
        'app.kubernetes.io/instance': 'cron',
        'app.kubernetes.io/managed-by': 'Helm',
      });
    }
  });

  it('agrees with values.schema.json under ajv', () => {
    expect(valuesSchema(readValues(file)), JSON.stringify(valuesSchema.errors)).toBe(true);
  });
});

describe('values.yaml', () => {
  it('agrees with values.schema.json under ajv', () => {
    const values = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Values;
    expect(valuesSchema(values), JSON.stringify(valuesSchema.errors)).toBe(true);
  });
});

describe('values.schema.json', () => {
  interface SchemaNode {
    description?: string;
    properties?: Record<string, SchemaNode>;
  }

  function undescribed(node: SchemaNode, prefix: string): string[] {
    return Object.entries(node.properties ?? {}).flatMap(([key, child]) => [
      ...(child.description ? [] : [`${prefix}${key}`]),
      ...undescribed(child, `${prefix}${key}.`),
    ]);
  }

  it('describes every key', () => {
    const schema = JSON.parse(readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode;
    expect(undescribed(schema, '')).toEqual([]);
  });
});
