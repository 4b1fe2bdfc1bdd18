import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  chartYamlPath,
  packageJsonPath,
  packageVersion,
  readChartVersions,
  syncChartVersion,
} from '../../scripts/sync-chart-version.ts';
import { repoRoot } from './helm.ts';

const run = promisify(execFile);

describe('the chart version', () => {
  it('equals package.json version, as version and appVersion', () => {
    const version = packageVersion(readFileSync(packageJsonPath, 'utf8'));
    expect(readChartVersions(readFileSync(chartYamlPath, 'utf8'))).toEqual({ version, appVersion: version });
  });

  it('is reported in step by sync-chart-version --check', async () => {
    const script = path.join(repoRoot, 'scripts', 'sync-chart-version.ts');
    const { stdout } = await run(process.execPath, [script, '--check'], { cwd: repoRoot });
    expect(stdout).toContain('version and appVersion are');
  });
});

describe('syncChartVersion', () => {
  const chart = [
    'apiVersion: v2',
    'name: cron-connector',
    '# kept',
    'version: 0.1.0',
    'appVersion: "0.1.0"',
    'dependencies: []',
    '',
  ].join('\n');

  it('sets version and appVersion and keeps everything else', () => {
    const next = syncChartVersion(chart, '1.2.3-rc.1');
    expect(next).toBe(chart.replace('version: 0.1.0', 'version: 1.2.3-rc.1').replace('"0.1.0"', '"1.2.3-rc.1"'));
    expect(readChartVersions(next)).toEqual({ version: '1.2.3-rc.1', appVersion: '1.2.3-rc.1' });
  });

  it('refuses a version that is not SemVer', () => {
    expect(() => syncChartVersion(chart, '1.2')).toThrow(/not SemVer/);
  });

  it('refuses a Chart.yaml without both keys', () => {
    expect(() => syncChartVersion('apiVersion: v2\nversion: 0.1.0\n', '1.0.0')).toThrow(/appVersion/);
  });
});
