import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../src/metrics.ts';

const seriesOf = async (m: PrometheusMetrics, name: string): Promise<string[]> =>
  (await m.registry.metrics()).split('\n').filter((line) => line.startsWith(`${name}{`));

describe('per-function series', () => {
  it('should hand prom-client only what changed since the last scrape', async () => {
    const m = new PrometheusMetrics();
    const fn = { id: 'often.dev', name: 'often', namespace: 'dev' };
    m.invocation(fn, '200', 0.01);
    m.invocation(fn, '200', 0.01);
    expect(await seriesOf(m, 'cron_connector_invocations_total')).toEqual(['cron_connector_invocations_total{function="often",namespace="dev",code="200"} 2']);
    expect(await seriesOf(m, 'cron_connector_invocations_total')).toEqual(['cron_connector_invocations_total{function="often",namespace="dev",code="200"} 2']);
    m.invocation(fn, '200', 0.01);
    m.invocation(fn, '502', 0.01);
    m.retry(fn);
    expect(await seriesOf(m, 'cron_connector_invocations_total')).toEqual([
      'cron_connector_invocations_total{function="often",namespace="dev",code="200"} 3',
      'cron_connector_invocations_total{function="often",namespace="dev",code="502"} 1',
    ]);
    expect(await seriesOf(m, 'cron_connector_invocation_retries_total')).toEqual(['cron_connector_invocation_retries_total{function="often",namespace="dev"} 1']);
  });

  it('should drop the series of functions no longer scheduled and keep the others', async () => {
    const m = new PrometheusMetrics();
    const kept = { id: 'kept.dev', name: 'kept', namespace: 'dev' };
    const gone = { id: 'gone.dev', name: 'gone', namespace: 'dev' };
    m.invocation(kept, '200', 0.01);
    m.invocation(gone, '200', 0.01);
    m.invocation(gone, '503', 0.01);
    m.retry(gone);
    expect(await seriesOf(m, 'cron_connector_invocations_total')).toHaveLength(3);
    expect(await seriesOf(m, 'cron_connector_invocation_retries_total')).toHaveLength(1);

    m.retainOnly(new Map([['kept.dev', {}]]));

    expect(await seriesOf(m, 'cron_connector_invocations_total')).toEqual([
      'cron_connector_invocations_total{function="kept",namespace="dev",code="200"} 1',
    ]);
    expect(await seriesOf(m, 'cron_connector_invocation_retries_total')).toEqual([]);
    // the duration histogram is not per function and keeps every invocation
    expect(await m.registry.metrics()).toContain('cron_connector_invocation_duration_seconds_count 3');
  });

  it('should count a function again from zero when it comes back', async () => {
    const m = new PrometheusMetrics();
    const fn = { id: 'back.dev', name: 'back', namespace: 'dev' };
    m.invocation(fn, '200', 0.01);
    m.retainOnly(new Map());
    m.invocation(fn, '200', 0.01);
    expect(await seriesOf(m, 'cron_connector_invocations_total')).toEqual([
      'cron_connector_invocations_total{function="back",namespace="dev",code="200"} 1',
    ]);
  });
});

describe('dropped log lines', () => {
  it('should count the lines stdout would not take, as the log sink reports them', async () => {
    let dropped = 0;
    const m = new PrometheusMetrics({ droppedLogLines: () => dropped });
    const value = async (): Promise<string | undefined> =>
      (await m.registry.metrics()).split('\n').find((line) => line.startsWith('cron_connector_log_lines_dropped_total '));
    expect(await value()).toBe('cron_connector_log_lines_dropped_total 0');
    dropped = 7;
    expect(await value()).toBe('cron_connector_log_lines_dropped_total 7');
    dropped = 9;
    expect(await value()).toBe('cron_connector_log_lines_dropped_total 9');
    expect((await new PrometheusMetrics().registry.metrics()).includes('cron_connector_log_lines_dropped_total')).toBe(false);
  });
});

describe('exposition', () => {
  it('should share one rendering among scrapes less than a second apart, and render again after', async () => {
    const m = new PrometheusMetrics();
    const fn = { id: 'a.dev', name: 'a', namespace: 'dev' };
    m.invocation(fn, '200', 0.01);
    const t = 1_000_000;
    const first = m.exposition(t);
    expect(m.exposition(t)).toBe(first);
    m.invocation(fn, '200', 0.01);
    expect(m.exposition(t + 999)).toBe(first);
    expect(await first).toContain('cron_connector_invocations_total{function="a",namespace="dev",code="200"} 1');
    const fresh = m.exposition(t + 1000);
    expect(fresh).not.toBe(first);
    expect(await fresh).toContain('cron_connector_invocations_total{function="a",namespace="dev",code="200"} 2');
    // a clock stepped back renders again rather than serving an answer from "the future"
    expect(m.exposition(t + 500)).not.toBe(fresh);
  });
});
