import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PrometheusMetrics, TypedHistogram } from '../../src/metrics.ts';

const DURATION = 'cron_connector_invocation_duration_seconds';
const LATENESS = 'cron_connector_fire_lateness_seconds';
const DURATION_HELP = 'Time from the first attempt to the final answer of an invocation.';
const LATENESS_HELP = 'Time from the nominal fire time to the moment the invocation was sent.';
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LATENESS_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
const fn = { id: 'f.dev', name: 'f', namespace: 'dev' };

/** The exposition block of one metric: its HELP and TYPE lines and its samples. */
const blockOf = (body: string, name: string): string[] =>
  body.split('\n').filter((line) => line.startsWith(`# HELP ${name} `) || line.startsWith(`# TYPE ${name} `) || line.startsWith(`${name}_`));

/** The blocks of the connector's own metrics (the default process metrics vary by themselves), by name. */
const connectorBlocks = (body: string): Map<string, string> =>
  new Map(
    body
      .split('\n\n')
      .filter((block) => block.startsWith('# HELP cron_connector_'))
      .map((block) => [block.split(' ')[2] ?? '', block]),
  );

/** What prom-client's own Histogram renders for the same observations. */
const reference = async (name: string, help: string, buckets: number[], values: readonly number[]): Promise<{ text: string; json: unknown }> => {
  const registry = new Registry();
  const h = new Histogram({ name, help, buckets, registers: [registry] });
  for (const v of values) h.observe(v);
  return { text: await registry.getSingleMetricAsString(name), json: withoutExemplars(await registry.getMetricsAsJSON()) };
};

/** prom-client's samples carry `exemplar: null` (exemplars are off); ours carry none. */
const withoutExemplars = (json: unknown): unknown => JSON.parse(JSON.stringify(json, (key, value: unknown) => (key === 'exemplar' ? undefined : value)));

describe('histograms kept in typed arrays', () => {
  it('should expose every bucket at zero before any observation', async () => {
    const body = await new PrometheusMetrics().registry.metrics();
    expect(blockOf(body, LATENESS)).toEqual([
      `# HELP ${LATENESS} ${LATENESS_HELP}`,
      `# TYPE ${LATENESS} histogram`,
      `${LATENESS}_bucket{le="0.0005"} 0`,
      `${LATENESS}_bucket{le="0.001"} 0`,
      `${LATENESS}_bucket{le="0.002"} 0`,
      `${LATENESS}_bucket{le="0.005"} 0`,
      `${LATENESS}_bucket{le="0.01"} 0`,
      `${LATENESS}_bucket{le="0.025"} 0`,
      `${LATENESS}_bucket{le="0.05"} 0`,
      `${LATENESS}_bucket{le="0.1"} 0`,
      `${LATENESS}_bucket{le="0.25"} 0`,
      `${LATENESS}_bucket{le="0.5"} 0`,
      `${LATENESS}_bucket{le="1"} 0`,
      `${LATENESS}_bucket{le="5"} 0`,
      `${LATENESS}_bucket{le="+Inf"} 0`,
      `${LATENESS}_sum 0`,
      `${LATENESS}_count 0`,
    ]);
    expect((await reference(DURATION, DURATION_HELP, DURATION_BUCKETS, [])).text.split('\n')).toEqual(blockOf(body, DURATION));
  });

  it('should count durations cumulatively, a value on a boundary in that bucket, and one above the last only in +Inf', async () => {
    const m = new PrometheusMetrics();
    for (const seconds of [0, 0.005, 0.0051, 0.1, 0.3, 120, 120.5, 0.25]) m.invocation(fn, '200', seconds);
    expect(blockOf(await m.exposition(0), DURATION)).toEqual([
      `# HELP ${DURATION} ${DURATION_HELP}`,
      `# TYPE ${DURATION} histogram`,
      `${DURATION}_bucket{le="0.005"} 2`,
      `${DURATION}_bucket{le="0.01"} 3`,
      `${DURATION}_bucket{le="0.025"} 3`,
      `${DURATION}_bucket{le="0.05"} 3`,
      `${DURATION}_bucket{le="0.1"} 4`,
      `${DURATION}_bucket{le="0.25"} 5`,
      `${DURATION}_bucket{le="0.5"} 6`,
      `${DURATION}_bucket{le="1"} 6`,
      `${DURATION}_bucket{le="2.5"} 6`,
      `${DURATION}_bucket{le="5"} 6`,
      `${DURATION}_bucket{le="10"} 6`,
      `${DURATION}_bucket{le="30"} 6`,
      `${DURATION}_bucket{le="60"} 6`,
      `${DURATION}_bucket{le="120"} 7`,
      `${DURATION}_bucket{le="+Inf"} 8`,
      `${DURATION}_sum 241.1601`,
      `${DURATION}_count 8`,
    ]);
  });

  it('should count a negative lateness as 0, in the first bucket, and add nothing to the sum', async () => {
    const m = new PrometheusMetrics();
    for (const seconds of [-3, -0.0001, 0, 0.0005, 0.00051, 0.75, 5, 5.0001, 3600]) m.lateness(seconds);
    expect(blockOf(await m.registry.metrics(), LATENESS).slice(2)).toEqual([
      `${LATENESS}_bucket{le="0.0005"} 4`,
      `${LATENESS}_bucket{le="0.001"} 5`,
      `${LATENESS}_bucket{le="0.002"} 5`,
      `${LATENESS}_bucket{le="0.005"} 5`,
      `${LATENESS}_bucket{le="0.01"} 5`,
      `${LATENESS}_bucket{le="0.025"} 5`,
      `${LATENESS}_bucket{le="0.05"} 5`,
      `${LATENESS}_bucket{le="0.1"} 5`,
      `${LATENESS}_bucket{le="0.25"} 5`,
      `${LATENESS}_bucket{le="0.5"} 5`,
      `${LATENESS}_bucket{le="1"} 6`,
      `${LATENESS}_bucket{le="5"} 7`,
      `${LATENESS}_bucket{le="+Inf"} 9`,
      `${LATENESS}_sum 3610.75111`,
      `${LATENESS}_count 9`,
    ]);
  });

  it('should render byte for byte what prom-client renders for the same observations, in text and JSON', async () => {
    const durations = [0, 0.005, 0.01, 0.1 + 0.2, 0.7, 1e-9, 59.999, 60, 61, 1e6, -2, 0.024999, 0.025];
    const lateness = [-1, 0, 0.0005, 0.001, 0.0015, 0.1, 0.2, 0.3, 4.9, 5, 6];
    const m = new PrometheusMetrics();
    for (const seconds of durations) m.invocation(fn, '200', seconds);
    for (const seconds of lateness) m.lateness(seconds);
    const body = await m.registry.metrics();
    const ours = (await m.registry.getMetricsAsJSON()).filter((metric) => metric.name === DURATION || metric.name === LATENESS);

    const duration = await reference(DURATION, DURATION_HELP, DURATION_BUCKETS, durations);
    const late = await reference(LATENESS, LATENESS_HELP, LATENESS_BUCKETS, lateness.map((s) => Math.max(0, s)));
    expect(blockOf(body, DURATION).join('\n')).toBe(duration.text);
    expect(blockOf(body, LATENESS).join('\n')).toBe(late.text);
    expect(await m.registry.getSingleMetricAsString(DURATION)).toBe(duration.text);
    expect(withoutExemplars(ours)).toEqual([...(duration.json as unknown[]), ...(late.json as unknown[])]);
  });

  it('should leave out values that are not finite rather than throw on the invocation path', async () => {
    const m = new PrometheusMetrics();
    m.invocation(fn, '200', Number.NaN);
    m.invocation(fn, '200', Number.POSITIVE_INFINITY);
    m.invocation(fn, '200', 0.5);
    m.lateness(Number.NaN);
    m.lateness(Number.POSITIVE_INFINITY);
    m.lateness(Number.NEGATIVE_INFINITY);
    const body = await m.registry.metrics();
    expect(blockOf(body, DURATION).filter((line) => !line.includes('_bucket{'))).toEqual([
      `# HELP ${DURATION} ${DURATION_HELP}`,
      `# TYPE ${DURATION} histogram`,
      `${DURATION}_sum 0.5`,
      `${DURATION}_count 1`,
    ]);
    // -Infinity is clamped to 0 first, as any negative lateness
    expect(blockOf(body, LATENESS).slice(-3)).toEqual([`${LATENESS}_bucket{le="+Inf"} 1`, `${LATENESS}_sum 0`, `${LATENESS}_count 1`]);
    // the invocations are counted all the same
    expect(body).toContain('cron_connector_invocations_total{function="f",namespace="dev",code="200"} 3');
  });

  it('should change no other metric, nor the order of the metrics', async () => {
    const m = new PrometheusMetrics({ droppedLogLines: () => 2 });
    m.enableLeaderElection();
    m.skipped('overlap');
    const before = connectorBlocks(await m.registry.metrics());
    for (let i = 0; i < 1000; i++) m.lateness(i / 1000);
    m.invocation(fn, '200', 0.2);
    const after = connectorBlocks(await m.registry.metrics());

    expect([...after.keys()]).toEqual([...before.keys()]);
    expect([...after.keys()].slice(0, 4)).toEqual(['cron_connector_invocations_total', 'cron_connector_invocation_retries_total', DURATION, LATENESS]);
    const changed = [...after].filter(([name, block]) => before.get(name) !== block).map(([name]) => name);
    expect(changed).toEqual(['cron_connector_invocations_total', DURATION, LATENESS]);
  });

  it('should start again from zero when the registry resets its metrics', async () => {
    const m = new PrometheusMetrics();
    m.invocation(fn, '200', 0.2);
    m.lateness(0.2);
    m.registry.resetMetrics();
    const body = await m.registry.metrics();
    const fresh = await new PrometheusMetrics().registry.metrics();
    expect(blockOf(body, DURATION)).toEqual(blockOf(fresh, DURATION));
    expect(blockOf(body, LATENESS)).toEqual(blockOf(fresh, LATENESS));
  });

  it('should refuse a second metric of the same name, as prom-client does', () => {
    const registry = new Registry();
    new TypedHistogram({ name: 'h_seconds', help: 'h', buckets: [1], registers: [registry] });
    expect(() => new Histogram({ name: 'h_seconds', help: 'h', registers: [registry] })).toThrow(/already been registered/);
  });
});
