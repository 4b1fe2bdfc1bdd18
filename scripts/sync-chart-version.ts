// Keeps the Helm chart in step with the package: sets chart/cron-connector/Chart.yaml `version`
// and `appVersion` to package.json's `version`. Only those two lines change; comments and layout
// stay as they are.
//
//   node scripts/sync-chart-version.ts           write Chart.yaml (npm run version:chart)
//   node scripts/sync-chart-version.ts --check   exit 1 when Chart.yaml is out of step
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const chartYamlPath = path.join(root, 'chart', 'cron-connector', 'Chart.yaml');
export const packageJsonPath = path.join(root, 'package.json');

// SemVer 2, as Helm requires for chart versions.
const semver = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export interface ChartVersions {
  version: unknown;
  appVersion: unknown;
}

export function readChartVersions(chartYaml: string): ChartVersions {
  const chart: unknown = parse(chartYaml);
  if (typeof chart !== 'object' || chart === null) throw new Error('Chart.yaml is not a mapping');
  const { version, appVersion } = chart as Record<string, unknown>;
  return { version, appVersion };
}

/** Returns `chartYaml` with its top-level version and appVersion set to `version`. */
export function syncChartVersion(chartYaml: string, version: string): string {
  if (!semver.test(version)) throw new Error(`package.json version "${version}" is not SemVer 2`);
  let replaced = 0;
  const next = chartYaml.replace(/^(version|appVersion):[^\n]*$/gm, (_line, key: string) => {
    replaced += 1;
    return key === 'version' ? `version: ${version}` : `appVersion: "${version}"`;
  });
  const got = readChartVersions(next);
  if (replaced !== 2 || got.version !== version || got.appVersion !== version) {
    throw new Error('Chart.yaml must have exactly one top-level `version:` and one `appVersion:` line');
  }
  return next;
}

export function packageVersion(packageJson: string): string {
  const pkg: unknown = JSON.parse(packageJson);
  const version = typeof pkg === 'object' && pkg !== null ? (pkg as Record<string, unknown>).version : undefined;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const version = packageVersion(readFileSync(packageJsonPath, 'utf8'));
  const current = readFileSync(chartYamlPath, 'utf8');
  const next = syncChartVersion(current, version);
  const rel = path.relative(process.cwd(), chartYamlPath);
  if (next === current) {
    console.log(`${rel}: version and appVersion are ${version}`);
    return 0;
  }
  if (check) {
    const { version: v, appVersion: a } = readChartVersions(current);
    console.error(
      `${rel}: version ${String(v)}, appVersion ${String(a)}; package.json: ${version}. ` +
        'Run `npm run version:chart`.',
    );
    return 1;
  }
  writeFileSync(chartYamlPath, next);
  console.log(`${rel}: version and appVersion set to ${version}`);
  return 0;
}

const invoked = process.argv[1];
if (invoked !== undefined && path.resolve(invoked) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
