// The Grafana dashboard (metrics.dashboard): a ConfigMap for the Grafana sidecar holding
// files/dashboard.json, preset to the release. Every panel query selects the release by
// namespace="$namespace",job="$release", uses no variable beyond those Grafana fills in
// ($__rate_interval, $__interval, $__range), and parses as PromQL once they are substituted
// (promtool check rules, on recording rules made of the queries).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartDir, helmTemplate, helmTemplateError, ofKind, one, type Manifest, type Values } from './helm.ts';
import { iamValues } from './fixtures.ts';
import { runPromtool, scratchDir, writeRulesFile } from './promtool.ts';
import { asConfigMap } from './validate.ts';

interface Target {
  expr?: string;
  legendFormat?: string;
  refId?: string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}

interface Variable {
  name: string;
  type: string;
  query: unknown;
  current?: { text?: string; value?: string };
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboardFile = path.join(chartDir, 'files', 'dashboard.json');
const fileText = readFileSync(dashboardFile, 'utf8');
const allowedVariables = ['namespace', 'release', '__rate_interval', '__interval', '__range'];
const releaseSelector = 'namespace="$namespace",job="$release"';

function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
}

function exprsOf(dashboard: Dashboard): { panel: string; expr: string }[] {
  return panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
}

async function renderDashboard(values: Values, namespace = 'tenant-a'): Promise<{ docs: Manifest[]; configMap: Manifest; key: string; dashboard: Dashboard }> {
  const docs = await helmTemplate(values, { releaseName: 'cron', namespace });
  const configMap = one(docs, 'ConfigMap');
  const data = asConfigMap(configMap).data ?? {};
  const keys = Object.keys(data);
  expect(keys).toHaveLength(1);
  const key = keys[0] ?? '';
  return { docs, configMap, key, dashboard: JSON.parse(data[key] ?? '') as Dashboard };
}

const on = (dashboard: Values = {}, extra: Values = {}): Values => iamValues([], { ...extra, metrics: { dashboard: { enabled: true, ...dashboard } } });

describe('files/dashboard.json', () => {
  const dashboard = JSON.parse(fileText) as Dashboard;

  it('has the datasource, namespace and release variables', () => {
    const variables = dashboard.templating.list;
    expect(variables.map((v) => v.name)).toEqual(['datasource', 'namespace', 'release']);
    expect(variables[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const v of variables.slice(1)) expect(v.type).toBe('query');
    expect(JSON.stringify(variables[2]?.query)).toContain('namespace=\\"$namespace\\"');
  });

  it('gives every panel a Prometheus query on the datasource variable', () => {
    const panels = panelsOf(dashboard);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr?.trim(), panel.title).toBeTruthy();
    }
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('selects the release in every query and uses only the variables Grafana fills in', () => {
    for (const { panel, expr } of exprsOf(dashboard)) {
      const variables = [...expr.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]);
      for (const v of variables) expect(allowedVariables, `${panel}: $${String(v)}`).toContain(v);
      expect(expr, panel).not.toContain('${');
      const selectors = [...expr.matchAll(/[a-zA-Z_:][\w:]*\{([^}]*)\}/g)].map((m) => m[1] ?? '');
      expect(selectors.length, panel).toBeGreaterThan(0);
      for (const s of selectors) expect(s.startsWith(releaseSelector), `${panel}: {${s}}`).toBe(true);
      expect(expr.replace(/\{[^}]*\}/g, '{}'), panel).not.toMatch(/\b(up|cron_connector_\w+|process_\w+)\b(?!\{)/);
    }
  });

  it('shows the connector metrics the issue asks for', () => {
    const exprs = exprsOf(dashboard).map((e) => e.expr).join('\n');
    for (const wanted of [
      /sum by \(code\) \(rate\(cron_connector_invocations_total\{/,
      /histogram_quantile\(0\.5, sum by \(le\) \(rate\(cron_connector_fire_lateness_seconds_bucket/,
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(cron_connector_fire_lateness_seconds_bucket/,
      /cron_connector_invocation_retries_total\{/,
      /sum by \(reason\) \(increase\(cron_connector_skipped_total\{/,
      /cron_connector_scheduled_functions\{/,
      /sum by \(result\) \(increase\(cron_connector_token_exchanges_total\{/,
      /sum by \(result\) \(increase\(cron_connector_rebuilds_total\{/,
      /rate\(process_cpu_seconds_total\{/,
      /process_resident_memory_bytes\{/,
      /max by \(pod\) \(cron_connector_leader\{/,
    ]) {
      expect(exprs).toMatch(wanted);
    }
  });

  it('has queries that parse as PromQL once the variables are substituted', async () => {
    const values: Record<string, string> = {
      namespace: 'tenant-a',
      release: 'cron-cron-connector',
      __rate_interval: '2m',
      __interval: '30s',
      __range: '6h',
    };
    const rules = exprsOf(dashboard).map(({ expr }, i) => ({
      record: `dashboard:query_${String(i)}`,
      expr: expr.replace(/\$(\w+)/g, (_m, name: string) => values[name] ?? `$${name}`),
    }));
    const dir = scratchDir('dashboard');
    writeRulesFile(dir, 'queries.yaml', [{ name: 'dashboard', rules }]);
    const result = await runPromtool(['check', 'rules', 'queries.yaml'], dir);
    expect(result.output).toContain(`SUCCESS: ${String(rules.length)} rules found`);
    expect(result.ok, result.output).toBe(true);
  });
});

describe('metrics.dashboard', () => {
  it('renders no ConfigMap by default', async () => {
    const docs = await helmTemplate(iamValues(), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(ofKind(docs, 'ConfigMap')).toEqual([]);
  });

  it('renders a ConfigMap labelled for the Grafana sidecar in the release namespace', async () => {
    const { configMap, key } = await renderDashboard(on());
    expect(configMap.metadata.name).toBe('cron-cron-connector-dashboard');
    expect(configMap.metadata.namespace).toBe('tenant-a');
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/instance': 'cron' });
    expect(key).toBe('cron-connector-tenant-a-cron-cron-connector.json');
  });

  it('takes the namespace, label, extra labels and annotations from values', async () => {
    const { configMap } = await renderDashboard(
      on({ namespace: 'monitoring', label: 'example.com/dashboard', labelValue: 'cron', labels: { team: 'payments' }, annotations: { grafana_folder: 'OpenFaaS' } }),
    );
    expect(configMap.metadata.namespace).toBe('monitoring');
    expect(configMap.metadata.labels).toMatchObject({ 'example.com/dashboard': 'cron', team: 'payments' });
    expect(configMap.metadata.labels).not.toHaveProperty('grafana_dashboard');
    expect((configMap.metadata as { annotations?: unknown }).annotations).toEqual({ grafana_folder: 'OpenFaaS' });
  });

  it('holds files/dashboard.json with a uid and title of the release and its variables preset to it', async () => {
    const { dashboard } = await renderDashboard(on());
    const file = JSON.parse(fileText) as Dashboard;
    expect(dashboard.uid).toMatch(/^cron-connector-[0-9a-f]{16}$/);
    expect(dashboard.uid.length).toBeLessThanOrEqual(40);
    expect(dashboard.title).toBe('OpenFaaS cron-connector: cron-cron-connector in tenant-a');
    const current = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v.current?.value]));
    expect(current).toEqual({ datasource: undefined, namespace: 'tenant-a', release: 'cron-cron-connector' });
    // Everything else is the file as it is.
    const strip = (d: Dashboard) => ({ ...d, uid: '', title: '', templating: { list: d.templating.list.map((v) => ({ ...v, current: {} })) } });
    expect(strip(dashboard)).toEqual(strip(file));
  });

  it('gives releases in different namespaces or with different names dashboards of their own', async () => {
    const a = await renderDashboard(on(), 'tenant-a');
    const b = await renderDashboard(on(), 'tenant-b');
    const c = await renderDashboard(on({}, { fullnameOverride: 'nightly' }), 'tenant-a');
    expect(new Set([a.dashboard.uid, b.dashboard.uid, c.dashboard.uid]).size).toBe(3);
    expect(new Set([a.key, b.key, c.key]).size).toBe(3);
  });

  it('refuses a label key Kubernetes would refuse', async () => {
    const message = await helmTemplateError(on({ label: 'not a label' }), { skipSchemaValidation: true });
    expect(message).toContain('metrics.dashboard.label "not a label" is not a Kubernetes label key');
  });
});
