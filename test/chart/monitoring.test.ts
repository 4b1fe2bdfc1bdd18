// Alert rules (metrics.prometheusRule): the PrometheusRule helm renders, its rules loaded by
// promtool (`promtool check rules`) and each alert made to fire, and to stay quiet, on input series
// (`promtool test rules` with test/chart/fixtures/alerts-test.yaml). promtool comes with Debian's
// `prometheus` package; without it these tests fail, saying so.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { chartDir, ciDir, helmTemplate, helmTemplateError, ofKind, one, repoRoot, type Manifest, type Values } from './helm.ts';
import { basicAuthValues, iamValues } from './fixtures.ts';
import { ALL_ALERTS, ALWAYS_ALERTS, alertRules, ruleGroups, runPromtool, scratchDir, writeRulesFile, type AlertRule, type RuleGroup } from './promtool.ts';

const fixture = path.join(repoRoot, 'test', 'chart', 'fixtures', 'alerts-test.yaml');
const selector = 'namespace="tenant-a",job="cron-cron-connector"';
const defaultRunbook = 'https://github.com/openfaas/cron-connector-ts/blob/main/README.md#troubleshooting';

const alwaysAlerts: readonly string[] = ALWAYS_ALERTS;
const allAlerts: readonly string[] = ALL_ALERTS;

const chartValues = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as {
  metrics: { prometheusRule: { alerts: Record<string, Record<string, unknown>> } };
};
const defaults = chartValues.metrics.prometheusRule.alerts;

function withRules(extra: Values = {}, rules: Values = {}): Values {
  const metrics = (extra.metrics as Values | undefined) ?? {};
  return iamValues([], { ...extra, metrics: { ...metrics, prometheusRule: { enabled: true, ...rules } } });
}

async function renderRule(values: Values, namespace = 'tenant-a'): Promise<{ docs: Manifest[]; rule: Manifest; rules: AlertRule[] }> {
  const docs = await helmTemplate(values, { releaseName: 'cron', namespace });
  const rule = one(docs, 'PrometheusRule');
  return { docs, rule, rules: alertRules(rule) };
}

function byName(rules: readonly AlertRule[], name: string): AlertRule {
  const found = rules.find((r) => r.alert === name);
  if (found === undefined) throw new Error(`no alert ${name} in ${rules.map((r) => r.alert).join(', ')}`);
  return found;
}

/** Every vector selector of a PromQL expression: metric name and matchers. */
function vectorSelectors(expr: string): { metric: string; matchers: string }[] {
  return [...expr.matchAll(/([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)].map((m) => ({ metric: m[1] ?? '', matchers: m[2] ?? '' }));
}

describe('metrics.prometheusRule', () => {
  it('renders nothing by default, also with a ServiceMonitor', async () => {
    const docs = await helmTemplate(iamValues([], { metrics: { serviceMonitor: { enabled: true } } }), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(ofKind(docs, 'PrometheusRule')).toEqual([]);
  });

  it('renders a monitoring.coreos.com/v1 PrometheusRule in the release namespace, with the extra labels', async () => {
    const { rule } = await renderRule(withRules({}, { labels: { release: 'kube-prometheus-stack' } }));
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.name).toBe('cron-cron-connector');
    expect(rule.metadata.namespace).toBe('tenant-a');
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/instance': 'cron' });
    expect(ruleGroups(rule).map((g) => g.name)).toEqual(['cron-connector.tenant-a.cron-cron-connector']);
  });

  it('goes to metrics.prometheusRule.namespace when set, still selecting the release namespace', async () => {
    const { rule, rules } = await renderRule(withRules({}, { namespace: 'monitoring' }));
    expect(rule.metadata.namespace).toBe('monitoring');
    expect(byName(rules, 'CronConnectorDown').expr).toContain(selector);
  });

  it('has the seven alerts without leader election, and the two leader alerts with it', async () => {
    expect((await renderRule(withRules())).rules.map((r) => r.alert)).toEqual(alwaysAlerts);
    expect((await renderRule(withRules({ replicas: 2 }))).rules.map((r) => r.alert)).toEqual(allAlerts);
    expect((await renderRule(withRules({ leaderElection: { enabled: true } }))).rules.map((r) => r.alert)).toEqual(allAlerts);
    expect((await renderRule({ ...basicAuthValues(), metrics: { prometheusRule: { enabled: true } } })).rules.map((r) => r.alert)).toEqual(alwaysAlerts);
  });

  it('leaves out an alert whose enabled is false', async () => {
    const { rules } = await renderRule(withRules({ replicas: 2 }, { alerts: { CronConnectorLate: { enabled: false }, CronConnectorNoLeader: { enabled: false } } }));
    expect(rules.map((r) => r.alert)).toEqual(allAlerts.filter((a) => a !== 'CronConnectorLate' && a !== 'CronConnectorNoLeader'));
  });

  it("selects every series by the release namespace and the job the ServiceMonitor's Service gives it", async () => {
    const { docs, rules } = await renderRule(withRules({ replicas: 2, metrics: { serviceMonitor: { enabled: true, namespace: 'monitoring' } } }));
    const service = one(docs, 'Service');
    const monitor = one(docs, 'ServiceMonitor');
    // The Prometheus Operator sets job to the scraped Service's name and namespace to its namespace.
    expect(service.metadata.name).toBe('cron-cron-connector');
    expect(service.metadata.namespace).toBe('tenant-a');
    expect((monitor.spec as { namespaceSelector: unknown }).namespaceSelector).toEqual({ matchNames: ['tenant-a'] });
    for (const rule of rules) {
      const selectors = vectorSelectors(rule.expr);
      expect(selectors.length, rule.alert).toBeGreaterThan(0);
      for (const s of selectors) expect(s.matchers.startsWith(selector), `${rule.alert}: ${s.metric}{${s.matchers}}`).toBe(true);
      // no series selected without the release's matchers
      expect(rule.expr.replace(/\{[^}]*\}/g, '{}'), rule.alert).not.toMatch(/\b(up|cron_connector_\w+|process_\w+)\b(?!\{)/);
    }
  });

  it('follows fullnameOverride and the release namespace in the selector', async () => {
    const { rules } = await renderRule(withRules({ fullnameOverride: 'nightly' }), 'tenant-b');
    for (const rule of rules) {
      for (const s of vectorSelectors(rule.expr)) expect(s.matchers).toMatch(/^namespace="tenant-b",job="nightly"/);
    }
  });

  it("gives every alert the severity of values.yaml, alertLabels, a summary naming the release and namespace, a description and the runbook", async () => {
    const { rules } = await renderRule(withRules({ replicas: 2 }, { alertLabels: { team: 'payments', severity: 'ignored' } }));
    for (const rule of rules) {
      expect(rule.labels, rule.alert).toEqual({ severity: defaults[rule.alert]?.severity, team: 'payments' });
      expect(rule.for, rule.alert).toBe(defaults[rule.alert]?.for);
      expect(rule.annotations.summary, rule.alert).toContain('cron-connector {{ $labels.job }} (Helm release cron) in namespace {{ $labels.namespace }}');
      expect(rule.annotations.description?.length, rule.alert).toBeGreaterThan(100);
      expect(rule.annotations.runbook_url, rule.alert).toBe(defaultRunbook);
    }
  });

  it('says that failing invocations are counted after retries, so retries were exhausted', async () => {
    const { rules } = await renderRule(withRules());
    const description = byName(rules, 'CronConnectorInvocationsFailing').annotations.description ?? '';
    expect(description).toContain('counted after retries');
    expect(description).toContain('retries were exhausted');
    expect(description).toContain('above 10% of all');
  });

  it('takes runbookURL, severity, for, windows and thresholds from values', async () => {
    const { rules } = await renderRule(
      withRules({}, {
        runbookURL: 'https://wiki.example.com/cron',
        alerts: {
          CronConnectorDown: { runbookURL: 'https://wiki.example.com/cron#down', for: '10m', severity: 'page' },
          CronConnectorTokenExchangeFailing: { window: '20m' },
          CronConnectorSlotsSkipped: { window: '1h', threshold: 3 },
          CronConnectorInvocationsFailing: { window: '2h', threshold: 0.25 },
          CronConnectorLate: { window: '1h', threshold: 2.5 },
          CronConnectorNoScheduledFunctions: { lookback: '6h' },
        },
      }),
    );
    const down = byName(rules, 'CronConnectorDown');
    expect(down.annotations.runbook_url).toBe('https://wiki.example.com/cron#down');
    expect(down.for).toBe('10m');
    expect(down.labels.severity).toBe('page');
    expect(byName(rules, 'CronConnectorLate').annotations.runbook_url).toBe('https://wiki.example.com/cron');
    expect(byName(rules, 'CronConnectorTokenExchangeFailing').expr).toContain('[20m]');
    expect(byName(rules, 'CronConnectorTokenExchangeFailing').expr).toContain('offset 20m');
    expect(byName(rules, 'CronConnectorSlotsSkipped').expr).toMatch(/\[1h\][\s\S]*\) > 3$/);
    expect(byName(rules, 'CronConnectorInvocationsFailing').expr).toMatch(/\[2h\][\s\S]*> 0.25$/);
    expect(byName(rules, 'CronConnectorLate').expr).toMatch(/^histogram_quantile\(0.99, [\s\S]*\[1h\][\s\S]*> 2.5$/);
    expect(byName(rules, 'CronConnectorNoScheduledFunctions').expr).toContain('max_over_time(cron_connector_scheduled_functions{' + selector + '}[6h])');
  });

  it.each([
    ['30s', '5m'],
    ['1m', '5m'],
    ['90s', '450s'],
    ['2m', '10m'],
    ['1.5h', '450m'],
  ])('derives the discovery window from rebuildInterval %s: %s', async (rebuildInterval, window) => {
    const { rules } = await renderRule(withRules({ rebuildInterval }));
    const expr = byName(rules, 'CronConnectorDiscoveryFailing').expr;
    expect(expr).toContain(`cron_connector_rebuilds_total{${selector},result="failure"}[${window}]`);
    expect(expr).toContain(`offset ${window})`);
    expect(expr).not.toMatch(new RegExp(`\\[(?!${window}\\])`));
  });

  it('uses the discovery window given, at least 3 x rebuildInterval', async () => {
    const { rules } = await renderRule(withRules({ rebuildInterval: '1m' }, { alerts: { CronConnectorDiscoveryFailing: { window: '3m' } } }));
    expect(byName(rules, 'CronConnectorDiscoveryFailing').expr).toContain('[3m]');
  });
});

describe('metrics.prometheusRule values refused', () => {
  const skipSchema = { skipSchemaValidation: true };

  it.each([
    [{ alerts: { CronConnectorDown: { for: '5 minutes' } } }, 'metrics.prometheusRule.alerts.CronConnectorDown.for "5 minutes" must be a Prometheus duration'],
    [{ alerts: { CronConnectorDown: { for: '1.5m' } } }, 'no decimals'],
    [{ alerts: { CronConnectorDown: { for: '30s1m' } } }, 'metrics.prometheusRule.alerts.CronConnectorDown.for "30s1m" must be a Prometheus duration: whole numbers with units in the order y, w, d, h, m, s, ms'],
    [{ alerts: { CronConnectorLate: { window: '0' } } }, 'metrics.prometheusRule.alerts.CronConnectorLate.window "0" must be a Prometheus duration longer than 0'],
    [{ alerts: { CronConnectorLate: { window: '45s' } } }, 'metrics.prometheusRule.alerts.CronConnectorLate.window "45s" is too short: a range must hold at least two scrapes'],
    [{ alerts: { CronConnectorLate: { threshold: 5 } } }, 'metrics.prometheusRule.alerts.CronConnectorLate.threshold 5 must be a number of seconds above 0 and below 5'],
    [{ alerts: { CronConnectorInvocationsFailing: { threshold: 1 } } }, 'CronConnectorInvocationsFailing.threshold 1 must be a share from 0 to below 1'],
    [{ alerts: { CronConnectorSlotsSkipped: { threshold: 1.5 } } }, 'CronConnectorSlotsSkipped.threshold 1.5 must be a whole number of slots'],
    [{ alerts: { CronConnectorNoScheduledFunctions: { lookback: '10m' } } }, 'CronConnectorNoScheduledFunctions.lookback "10m" must be longer than its for "15m"'],
    [{ alerts: { CronConnectorDown: { severity: '' } } }, 'CronConnectorDown.severity "" must be a non-empty string'],
    [{ runbookURL: 'wiki/cron' }, 'metrics.prometheusRule.runbookURL wiki/cron must be an http(s) URL'],
  ])('refuses %j in the template check', async (rules, message) => {
    expect(await helmTemplateError(withRules({}, rules), skipSchema)).toContain(message);
  });

  it('refuses a discovery window shorter than 3 x rebuildInterval', async () => {
    const message = await helmTemplateError(withRules({ rebuildInterval: '2m' }, { alerts: { CronConnectorDiscoveryFailing: { window: '5m' } } }));
    expect(message).toContain('metrics.prometheusRule.alerts.CronConnectorDiscoveryFailing.window "5m" is too short for rebuildInterval "2m": it must be at least 3 x rebuildInterval');
  });

  it('checks windows against the ServiceMonitor interval', async () => {
    const values = withRules({ metrics: { serviceMonitor: { enabled: true, interval: '6m' } } });
    expect(await helmTemplateError(values)).toContain('CronConnectorTokenExchangeFailing.window "10m" is too short');
  });

  it.each([
    [{ alerts: { CronConnectorDown: { for: '5 minutes' } } }, "at '/metrics/prometheusRule/alerts/CronConnectorDown/for'"],
    [{ alerts: { CronConnectorDown: { for: '30s1m' } } }, "at '/metrics/prometheusRule/alerts/CronConnectorDown/for'"],
    [{ alerts: { CronConnectorLate: { window: '' } } }, "at '/metrics/prometheusRule/alerts/CronConnectorLate/window'"],
    [{ alerts: { CronConnectorLate: { threshold: 5 } } }, "at '/metrics/prometheusRule/alerts/CronConnectorLate/threshold'"],
    [{ alerts: { CronConnectorInvocationsFailing: { threshold: 1 } } }, "at '/metrics/prometheusRule/alerts/CronConnectorInvocationsFailing/threshold'"],
    [{ alerts: { CronConnectorDown: { severty: 'critical' } } }, "at '/metrics/prometheusRule/alerts/CronConnectorDown'"],
    [{ alerts: { CronConnectorDow: { for: '5m' } } }, "at '/metrics/prometheusRule/alerts'"],
  ])('refuses %j in the schema', async (rules, message) => {
    expect(await helmTemplateError(withRules({}, rules))).toContain(message);
  });

  it('does not check the alerts while the PrometheusRule is off', async () => {
    const values = iamValues([], { metrics: { prometheusRule: { alerts: { CronConnectorLate: { threshold: 7 } } } } });
    await expect(helmTemplate(values, skipSchema)).resolves.toBeDefined();
  });
});

describe('promtool check rules', () => {
  const scenarios: [string, Values][] = [
    ['the defaults', withRules()],
    ['leader election', withRules({ replicas: 2 })],
    ['basic auth and a slow rebuildInterval', { ...basicAuthValues({ rebuildInterval: '7m30s' }), metrics: { prometheusRule: { enabled: true } } }],
    ['ci/monitoring-values.yaml', parse(readFileSync(path.join(ciDir, 'monitoring-values.yaml'), 'utf8')) as Values],
  ];

  it.each(scenarios)('loads the rendered rules with %s', async (_name, values) => {
    const { rule } = await renderRule(values);
    const dir = scratchDir('rules');
    writeRulesFile(dir, 'rules.yaml', ruleGroups(rule));
    const result = await runPromtool(['check', 'rules', 'rules.yaml'], dir);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok, result.output).toBe(true);
  });
});

interface RuleTest {
  name: string;
  alert_rule_test: { alertname: string; exp_alerts: unknown[] }[];
}

describe('promtool test rules', () => {
  // The rules the fixture is written for: release cron in tenant-a, leader election on, defaults.
  async function fixtureRules(): Promise<RuleGroup[]> {
    const { rule } = await renderRule(withRules({ replicas: 2 }));
    return ruleGroups(rule);
  }

  it('has a test in which each alert fires and one in which it stays quiet', () => {
    const tests = (parse(readFileSync(fixture, 'utf8')) as { tests: RuleTest[] }).tests;
    for (const alert of allAlerts) {
      const checks = tests.flatMap((t) => t.alert_rule_test.filter((c) => c.alertname === alert).map((c) => ({ test: t.name, fires: c.exp_alerts.length > 0 })));
      expect(checks.some((c) => c.fires), `${alert} fires somewhere`).toBe(true);
      const quiet = tests.filter((t) => t.alert_rule_test.some((c) => c.alertname === alert) && t.alert_rule_test.every((c) => c.alertname !== alert || c.exp_alerts.length === 0));
      expect(quiet.length, `${alert} has a healthy test`).toBeGreaterThan(0);
    }
  });

  it('fires each alert on failing series of the release and on nothing else (test/chart/fixtures/alerts-test.yaml)', async () => {
    const groups = await fixtureRules();
    // exp_alerts compares labels and annotations; annotations are checked by the next test.
    const bare = groups.map((g) => ({ ...g, rules: g.rules.map((rule) => ({ ...rule, annotations: {} })) }));
    const dir = scratchDir('alerts');
    writeRulesFile(dir, 'cron-connector.rules.yaml', bare);
    copyFileSync(fixture, path.join(dir, 'alerts-test.yaml'));
    const result = await runPromtool(['test', 'rules', 'alerts-test.yaml'], dir);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok, result.output).toBe(true);
  });

  it('expands the annotations with the labels and value of each alert', async () => {
    const groups = await fixtureRules();
    const rules = groups.flatMap((g) => g.rules);
    const L = 'namespace="tenant-a",job="cron-cron-connector",instance="10.0.0.1:8081",pod="cron-cron-connector-a"';
    const release = { namespace: 'tenant-a', job: 'cron-cron-connector' };
    const pod = { ...release, instance: '10.0.0.1:8081', pod: 'cron-cron-connector-a' };

    /** The annotations Prometheus should write, from the rule's templates and what the alert knows. */
    function expected(alert: string, labels: Record<string, string>, value: string): Record<string, string> {
      const out: Record<string, string> = {};
      for (const [key, text] of Object.entries(byName(rules, alert).annotations)) {
        const expanded = text
          .replaceAll('{{ with $labels.pod }}Pod {{ . }}: {{ end }}', labels.pod === undefined ? '' : `Pod ${labels.pod}: `)
          .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, name: string) => labels[name] ?? '')
          .replace(/\{\{ (\$value \| humanize\w*|printf "%\.0f" \$value|\$value) \}\}/g, value);
        expect(expanded, `${alert} ${key}: every template is known here`).not.toContain('{{');
        out[key] = expanded;
      }
      return out;
    }

    const cases = [
      {
        name: 'CronConnectorDown without a target: no pod label',
        alert: 'CronConnectorDown',
        series: [],
        at: '6m',
        labels: { severity: 'critical', ...release },
        value: '',
      },
      {
        name: 'CronConnectorTokenExchangeFailing names the Pod',
        alert: 'CronConnectorTokenExchangeFailing',
        series: [{ series: `cron_connector_token_exchanges_total{${L},result="failure"}`, values: '1+1x40' }],
        at: '12m',
        labels: { severity: 'warning', ...pod },
        value: '',
      },
      {
        name: 'CronConnectorSlotsSkipped counts the slots',
        alert: 'CronConnectorSlotsSkipped',
        series: [{ series: `cron_connector_skipped_total{${L},reason="missed"}`, values: '_x40 1x40' }],
        at: '21m',
        labels: { severity: 'warning', ...release, reason: 'missed' },
        value: '1',
      },
      {
        name: 'CronConnectorInvocationsFailing gives the share',
        alert: 'CronConnectorInvocationsFailing',
        series: [
          { series: `cron_connector_invocations_total{${L},function="report",exported_namespace="tenant-a",code="200"}`, values: '0+3x60' },
          { series: `cron_connector_invocations_total{${L},function="sync",exported_namespace="tenant-a",code="error"}`, values: '0+1x60' },
        ],
        at: '15m',
        labels: { severity: 'warning', ...release },
        value: '25%',
      },
      {
        name: 'CronConnectorMultipleLeaders counts the leaders',
        alert: 'CronConnectorMultipleLeaders',
        series: [
          { series: `cron_connector_leader{${L}}`, values: '1x20' },
          { series: `cron_connector_leader{${L.replace('pod="cron-cron-connector-a"', 'pod="cron-cron-connector-b"').replace('10.0.0.1', '10.0.0.2')}}`, values: '1x20' },
        ],
        at: '5m',
        labels: { severity: 'critical', ...release },
        value: '2',
      },
    ];
    const dir = scratchDir('annotations');
    writeRulesFile(dir, 'cron-connector.rules.yaml', groups);
    const file = {
      rule_files: ['cron-connector.rules.yaml'],
      evaluation_interval: '30s',
      tests: cases.map((c) => ({
        name: c.name,
        interval: '30s',
        input_series: c.series,
        alert_rule_test: [
          {
            eval_time: c.at,
            alertname: c.alert,
            exp_alerts: [{ exp_labels: c.labels, exp_annotations: expected(c.alert, { ...c.labels }, c.value) }],
          },
        ],
      })),
    };
    writeFileSync(path.join(dir, 'annotations-test.yaml'), stringify(file, { lineWidth: 0 }));
    const result = await runPromtool(['test', 'rules', 'annotations-test.yaml'], dir);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok, result.output).toBe(true);
  });
});

describe('docs/chart.md', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'chart.md'), 'utf8');

  it.each(allAlerts)('lists %s with its default for and severity', (alert) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${alert}\` |`));
    expect(row, `a table row for ${alert}`).toBeDefined();
    const settings = defaults[alert] ?? {};
    expect(row).toContain(`\`${String(settings.for)}\``);
    expect(row).toContain(String(settings.severity));
  });
});
