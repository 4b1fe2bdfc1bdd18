/**
 * The chart's alert rules and Grafana dashboard, proven on a real Prometheus (Debian's package):
 * the built connector (dist/main.js) runs against the gateway emulator and is scraped every
 * second; the PrometheusRule and the dashboard are rendered by the real helm, with windows and
 * `for` durations shortened through values so that an alert fires within seconds.
 *
 * One Prometheus serves the whole file (its first scrape comes ~5 s after start, as target
 * discovery sends its first update): each test has a namespace of its own, with its target(s)
 * and the rules helm renders for that namespace, so the rules of one test never see another's
 * connector. A namespace whose connector is not running yet has `up == 0` (CronConnectorDown):
 * each alert test first waits until its namespace is quiet.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { helmTemplate, one, type Manifest, type Values } from '../chart/helm.ts';
import { ALL_ALERTS, type AlertName } from '../chart/promtool.ts';
import { is, world, type World } from '../helpers/fixture.ts';
import { freePort } from '../helpers/ports.ts';
import type { ConnectorProcess } from '../support/connector.ts';
import { cronFunction } from '../support/gateway.ts';
import { startKubeApi } from '../support/kube-api.ts';
import { checkMetrics, checkRules, startPrometheus, stopAllPrometheus, type PrometheusServer, type Rule } from '../support/prometheus.ts';

const RELEASE = 'cron';
/** The chart's full name for release `cron`: the `job` label the ServiceMonitor's targets get. */
const JOB = 'cron-cron-connector';
const NS = { dashboard: 'tenant-a', down: 'tenant-down', exchange: 'tenant-exchange', failing: 'tenant-failing' } as const;
type Scenario = keyof typeof NS;

const ALERTS = ALL_ALERTS;

/** Every alert waits 2 s pending before it fires; windows hold a few 1 s scrapes. */
const FOR = '2s';
const ALERT_VALUES: Record<AlertName, Record<string, string>> = {
  CronConnectorDown: { for: FOR },
  CronConnectorTokenExchangeFailing: { window: '5s', for: FOR },
  // at least 3 x rebuildInterval (1s), as the chart requires
  CronConnectorDiscoveryFailing: { window: '4s', for: FOR },
  CronConnectorSlotsSkipped: { window: '5s', for: FOR },
  CronConnectorInvocationsFailing: { window: '5s', for: FOR },
  CronConnectorLate: { window: '5s', for: FOR },
  CronConnectorNoScheduledFunctions: { for: FOR },
  CronConnectorNoLeader: { for: FOR },
  CronConnectorMultipleLeaders: { for: FOR },
};

/** What the test's connectors run with (FAST_ENV's rebuild_interval) and Prometheus scrapes at. */
const CHART_VALUES: Values = {
  iam: { systemIssuer: { url: 'https://gw.example.com' } },
  rebuildInterval: '1s',
  metrics: {
    serviceMonitor: { interval: '1s', scrapeTimeout: '1s' },
    prometheusRule: { enabled: true, alerts: ALERT_VALUES },
    dashboard: { enabled: true },
  },
};
/** tenant-a runs two replicas with leader election, so the leader panels and rules have series. */
const ELECTION_ENV = { leader_election: 'true', POD_NAMESPACE: 'openfaas', lease_name: 'cron', lease_duration: '3s', renew_deadline: '2s', retry_period: '500ms' };
const ELECTION_VALUES: Values = { replicas: 2, leaderElection: { leaseDuration: '3s', renewDeadline: '2s', retryPeriod: '500ms' } };

/** Grafana's interval variables, for a 1 s scrape interval (`$__rate_interval` is at least 4 scrapes). */
const GRAFANA_INTERVALS = { __rate_interval: '5s', __interval: '1s', __range: '1m' };

interface Rendered {
  ruleFile: { groups: unknown[] };
  dashboard: Dashboard;
}

interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string; legendFormat?: string }>;
  panels?: Panel[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query?: string } }> };
}

/** helm template for release `cron` in `namespace`: the PrometheusRule's spec and the dashboard ConfigMap's JSON. */
async function render(namespace: string, extra: Values = {}): Promise<Rendered> {
  const values = { ...CHART_VALUES, ...extra };
  const docs = await helmTemplate(values, { releaseName: RELEASE, namespace });
  const rule = one(docs, 'PrometheusRule') as Manifest & { spec: { groups: unknown[] } };
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === `${JOB}-dashboard`) as (Manifest & { data: Record<string, string> }) | undefined;
  const [json] = Object.values(configMap?.data ?? {});
  if (json === undefined) throw new Error(`no dashboard ConfigMap ${JOB}-dashboard in the render`);
  return { ruleFile: { groups: rule.spec.groups }, dashboard: JSON.parse(json) as Dashboard };
}

/** Target labels as the Prometheus Operator gives a ServiceMonitor's endpoint. */
function targetLabels(namespace: string, pod: string): Record<string, string> {
  return { namespace, job: JOB, service: JOB, endpoint: 'http', pod, container: 'cron-connector' };
}

let prom: PrometheusServer;
const rendered = new Map<Scenario, Rendered>();
/** Ports of each namespace's connector(s), fixed before Prometheus starts (static targets). */
const ports = new Map<Scenario, number[]>();
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  const scenarios = Object.keys(NS) as Scenario[];
  const taken = new Set<number>();
  while (taken.size < scenarios.length + 1) taken.add(await freePort());
  const free = [...taken];
  for (const s of scenarios) ports.set(s, free.splice(0, s === 'dashboard' ? 2 : 1));
  await Promise.all(scenarios.map(async (s) => rendered.set(s, await render(NS[s], s === 'dashboard' ? ELECTION_VALUES : {}))));
  prom = await startPrometheus({
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    targets: scenarios.flatMap((s) => (ports.get(s) ?? []).map((port, i) => ({ address: `127.0.0.1:${String(port)}`, labels: targetLabels(NS[s], `${JOB}-5d8c7b9f4-${String(i)}`) }))),
    ruleFiles: scenarios.map((s) => rendered.get(s)?.ruleFile ?? { groups: [] }),
  });
}, 30_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await stopAllPrometheus();
});

function portOf(s: Scenario, i = 0): string {
  const port = ports.get(s)?.[i];
  if (port === undefined) throw new Error(`no port for ${s}`);
  return String(port);
}

/** Alerting rules of one namespace's rule file, by name. */
async function rulesOf(s: Scenario): Promise<Map<string, Rule>> {
  const file = prom.ruleFiles[(Object.keys(NS) as Scenario[]).indexOf(s)];
  const groups = (await prom.rules()).filter((g) => g.file === file);
  return new Map(groups.flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => [r.name, r] as const)));
}

/** Waits until no alert of the namespace is pending or firing (e.g. CronConnectorDown before its connector was scraped). */
async function waitUntilQuiet(s: Scenario): Promise<void> {
  await prom.waitFor(async () => [...(await rulesOf(s)).values()].every((r) => r.state === 'inactive' && r.health === 'ok'), 15_000, `no alert active in ${NS[s]}`);
}

/**
 * Polls the namespace's rules every 200 ms until `alert` fires; resolves with every state each
 * rule was seen in meanwhile.
 */
async function watchUntilFiring(s: Scenario, alert: AlertName, timeoutMs: number): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rules = await rulesOf(s);
    for (const [name, rule] of rules) {
      const states = seen.get(name) ?? new Set<string>();
      states.add(rule.state ?? 'inactive');
      seen.set(name, states);
    }
    if (rules.get(alert)?.state === 'firing') return seen;
    if (Date.now() >= deadline) throw new Error(`${alert} did not fire in ${NS[s]} within ${String(timeoutMs)} ms; states seen: ${describeSeen(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function describeSeen(seen: Map<string, Set<string>>): string {
  return [...seen].map(([name, states]) => `${name}: ${[...states].join(' -> ')}`).join('; ');
}

/** The alert went pending, then firing; every other rule stayed inactive. */
function expectOnly(seen: Map<string, Set<string>>, alert: AlertName): void {
  expect([...(seen.get(alert) ?? [])]).toEqual(expect.arrayContaining(['pending', 'firing']));
  const others = [...seen].filter(([name, states]) => name !== alert && [...states].some((state) => state !== 'inactive'));
  expect(others.map(([name, states]) => `${name}: ${[...states].join(' -> ')}`)).toEqual([]);
}

/** A schedule that never comes due during a test: the connector discovers functions but invokes none. */
const YEARLY = '0 0 1 1 *';

async function startQuiet(s: Scenario, w: World, env: Record<string, string> = {}): Promise<ConnectorProcess> {
  const connector = await w.start({ http_port: portOf(s), ...env });
  await connector.waitForLog(is('Added'), 10_000, 'a function scheduled');
  await waitUntilQuiet(s);
  return connector;
}

/** Every panel query of the dashboard, with its legend. */
function panelQueries(panels: readonly Panel[]): Array<{ title: string; expr: string; legendFormat: string }> {
  return panels.flatMap((p) => [
    ...(p.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [{ title: p.title ?? '', expr: t.expr, legendFormat: t.legendFormat ?? '' }])),
    ...panelQueries(p.panels ?? []),
  ]);
}

/** Replaces Grafana's `$var`, `${var}` and `[[var]]`; throws on a variable it does not know. */
function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (match, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    const value = vars[name];
    if (value === undefined) throw new Error(`unknown variable ${match} in ${expr}`);
    return value;
  });
}

// a real Prometheus on a loaded 2-core machine: scrapes and evaluations can lag
describe('the chart\'s Grafana dashboard on a real Prometheus', { timeout: 90_000 }, () => {
  it('should answer every panel query with the series it charts, and pass promtool check metrics', async () => {
    const w = await world();
    const kube = await startKubeApi();
    cleanups.push(() => kube.close());
    const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = await kube.writeKubeconfig(dir, { namespace: 'openfaas' });
    // every series the dashboard charts: 2xx and 5xx outcomes, retries (503), skipped slots (forbid)
    w.gateway.setFunctions('dev', [
      cronFunction('ok', '* * * * * *'),
      cronFunction('broken', '* * * * * *'),
      cronFunction('unavailable', '*/2 * * * * *', { 'com.openfaas.cron.retries': '1' }),
      cronFunction('busy', '* * * * * *', { 'com.openfaas.cron.concurrency': 'forbid' }),
    ]);
    w.gateway.setFunctionBehavior('dev', 'broken', { status: 500 });
    w.gateway.setFunctionBehavior('dev', 'unavailable', { status: 503 });
    w.gateway.setFunctionBehavior('dev', 'busy', { delayMs: 1500 });
    const replicas = await Promise.all(
      [0, 1].map((i) => w.start({ ...ELECTION_ENV, POD_NAME: `${JOB}-5d8c7b9f4-${String(i)}`, KUBECONFIG: kubeconfig, http_port: portOf('dashboard', i) })),
    );
    const leader = await Promise.any(replicas.map(async (r) => (await r.waitForLog(is('Leadership acquired'), 10_000, 'a leader'), r)));
    await leader.waitForLog(is('Skipped'), 10_000, 'a skipped slot');
    await leader.waitForLog(is('Retrying'), 10_000, 'a retry');

    const dashboard = rendered.get('dashboard')?.dashboard;
    if (dashboard === undefined) throw new Error('no dashboard rendered');
    const variables = dashboard.templating.list.map((v) => v.name);
    expect(variables).toEqual(expect.arrayContaining(['datasource', 'namespace', 'release']));
    const vars = { namespace: NS.dashboard, release: JOB, ...GRAFANA_INTERVALS };

    // the variables' own queries (label_values(<selector>, <label>)) list this release
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const text = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(substitute(text, vars));
      expect(m, `${v.name}: ${text}`).not.toBeNull();
      const [, selector = '', label = ''] = m ?? [];
      const expected = v.name === 'namespace' ? NS.dashboard : JOB;
      await prom.waitFor(async () => (await prom.labelValues(label, selector)).includes(expected), 15_000, `${v.name} listing ${expected}`);
    }

    const queries = panelQueries(dashboard.panels);
    expect(queries.length).toBeGreaterThan(0);
    // both replicas scraped successfully, over the rate windows, often enough for every rate();
    // on a loaded machine a 1 s scrape can time out now and then, which must not fail the test
    const up = `up{namespace="${NS.dashboard}",job="${JOB}"}`;
    const upSince = `sum_over_time(${up}[8s]) >= 5`;
    await prom.waitFor(async () => (await prom.query(upSince)).data.result.length === 2, 45_000, 'both replicas scraped at least 5 times in 8 s');
    const problems: string[] = [];
    const end = new Date();
    for (const q of queries) {
      const expr = substitute(q.expr, vars);
      const what = `${q.title}: ${expr}`;
      try {
        const { data, warnings } = await prom.queryRange(expr, { start: new Date(end.getTime() - 20_000), end, step: 1 });
        if (warnings.length > 0) problems.push(`${what}: warnings ${warnings.join('; ')}`);
        if (data.resultType !== 'matrix') throw new Error(`resultType ${data.resultType}`);
        if (data.result.length === 0) problems.push(`${what}: no series`);
        const labels = [...q.legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((l) => l[1] ?? '');
        for (const series of data.result) {
          const missing = labels.filter((l) => series.metric[l] === undefined);
          if (missing.length > 0) problems.push(`${what}: legend ${q.legendFormat} but no label ${missing.join(', ')} on ${JSON.stringify(series.metric)}`);
          const last = series.values.at(-1)?.[1];
          if (last === undefined || !Number.isFinite(Number(last))) problems.push(`${what}: last value ${String(last)} for ${JSON.stringify(series.metric)}`);
        }
      } catch (error) {
        problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(problems).toEqual([]);

    // one leader and one standby: neither leader election alert is active
    const rules = await rulesOf('dashboard');
    expect(rules.get('CronConnectorNoLeader')?.state).toBe('inactive');
    expect(rules.get('CronConnectorMultipleLeaders')?.state).toBe('inactive');

    // the exposition of the leader, with every series of the connector (leader election included)
    const text = await (await fetch(`http://127.0.0.1:${portOf('dashboard', replicas.indexOf(leader))}/metrics`)).text();
    expect(text).toContain('cron_connector_skipped_total{reason="overlap"}');
    const lint = await checkMetrics(text);
    // no findings (prom-client's three default gauges named *_total are left out: src/metrics.ts)
    expect([lint.exitCode, lint.lines]).toEqual([0, []]);
  });
});

// a real Prometheus on a loaded 2-core machine: scrapes and evaluations can lag
describe('the chart\'s alert rules on a real Prometheus', { timeout: 90_000 }, () => {
  it('should load every rule of the rendered PrometheusRule into Prometheus, healthy, and promtool should accept them', async () => {
    for (const s of Object.keys(NS) as Scenario[]) {
      const ruleFile = rendered.get(s)?.ruleFile ?? { groups: [] };
      const check = await checkRules(ruleFile);
      expect(check.exitCode, check.lines.join('\n')).toBe(0);
      const expected = s === 'dashboard' ? [...ALERTS] : ALERTS.filter((a) => a !== 'CronConnectorNoLeader' && a !== 'CronConnectorMultipleLeaders');
      const rules = await prom.waitFor(async () => {
        const byName = await rulesOf(s);
        return [...byName.values()].every((r) => r.health === 'ok') && byName.size > 0 ? byName : undefined;
      }, 10_000, `the rules of ${NS[s]} evaluated`);
      expect([...rules.keys()].sort()).toEqual(expected.sort());
      for (const rule of rules.values()) {
        expect(rule.lastError ?? '', rule.name).toBe('');
        expect(rule.duration, rule.name).toBe(2);
      }
    }
  });

  it('should fire CronConnectorDiscoveryFailing, and nothing else, when the gateway goes down', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('nightly', YEARLY)]);
    await startQuiet('down', w);
    // every route: discovery fails; no slot is due and the token lasts (2h), so nothing else is asked
    w.gateway.setFault('all', { kind: 'down' });
    const seen = await watchUntilFiring('down', 'CronConnectorDiscoveryFailing', 15_000);
    expectOnly(seen, 'CronConnectorDiscoveryFailing');
    const alert = (await prom.alerts()).find((a) => a.labels.alertname === 'CronConnectorDiscoveryFailing' && a.labels.namespace === NS.down);
    expect(alert).toMatchObject({ state: 'firing', labels: { job: JOB, severity: 'warning', pod: `${JOB}-5d8c7b9f4-0` } });
  });

  it('should fire CronConnectorTokenExchangeFailing, and nothing else, while a refused renewal leaves a valid token', async () => {
    const w = await world();
    // renewed at 80% of 45 s (36 s); the token still works until 45 s, so discovery goes on
    // meanwhile: 9 s for the alert to fire (a 5 s window, for: 2s, 1 s evaluations), with room
    // for a loaded machine
    w.gateway.setTokenLifetime(45);
    w.gateway.setFunctions('dev', [cronFunction('nightly', YEARLY)]);
    const connector = await startQuiet('exchange', w);
    // no Role matches the ServiceAccount any more: the gateway refuses the next exchange
    // ("No policies found for subject"); the Policy the current token names still exists
    w.gateway.deleteRole('cron-connector');
    const seen = await watchUntilFiring('exchange', 'CronConnectorTokenExchangeFailing', 50_000);
    expectOnly(seen, 'CronConnectorTokenExchangeFailing');
    expect(connector.countLogs(is('Token exchange failed'))).toBeGreaterThan(0);
    expect(connector.countLogs(is('Discovery failed, keeping current schedules'))).toBe(0);
  });

  it('should fire CronConnectorInvocationsFailing, and nothing else, when a function answers 500', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('broken', '* * * * * *')]);
    await startQuiet('failing', w);
    w.gateway.setFunctionBehavior('dev', 'broken', { status: 500, body: 'boom' });
    const seen = await watchUntilFiring('failing', 'CronConnectorInvocationsFailing', 15_000);
    expectOnly(seen, 'CronConnectorInvocationsFailing');
  });
});
