// Runs Prometheus's promtool (Debian's `prometheus` package installs /usr/bin/promtool) on the
// chart's alert rules and dashboard queries. Without promtool the tests that need it fail, saying
// how to install it: they are the proof that the rules load and fire, so they are never skipped.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { stringify } from 'yaml';
import { repoRoot, type Manifest } from './helm.ts';

/** The chart's alerts, in the PrometheusRule's order: always, then with leader election only. */
export const ALWAYS_ALERTS = [
  'CronConnectorDown',
  'CronConnectorTokenExchangeFailing',
  'CronConnectorDiscoveryFailing',
  'CronConnectorSlotsSkipped',
  'CronConnectorInvocationsFailing',
  'CronConnectorLate',
  'CronConnectorNoScheduledFunctions',
] as const;
export const LEADER_ALERTS = ['CronConnectorNoLeader', 'CronConnectorMultipleLeaders'] as const;
export const ALL_ALERTS = [...ALWAYS_ALERTS, ...LEADER_ALERTS] as const;
export type AlertName = (typeof ALL_ALERTS)[number];

export const PROMTOOL_MISSING =
  "promtool not found on PATH: install Debian's `prometheus` package (sudo apt-get install prometheus, which ships /usr/bin/promtool), or put a promtool of Prometheus 2.42 or later on PATH. The chart tests check the alert rules and dashboard queries with it.";

let promtoolPath: string | undefined;

/** Path of promtool on PATH (as `which promtool` finds it); throws PROMTOOL_MISSING without it. */
export function promtool(): string {
  if (promtoolPath !== undefined) return promtoolPath;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'promtool');
    try {
      accessSync(candidate, constants.X_OK);
      promtoolPath = candidate;
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(PROMTOOL_MISSING);
}

export interface PromtoolResult {
  ok: boolean;
  output: string;
}

/** Runs promtool with `args` in `cwd`; resolves with its exit status and output (never rejects on a failed check). */
export function runPromtool(args: readonly string[], cwd: string): Promise<PromtoolResult> {
  const binary = promtool();
  return new Promise((resolve, reject) => {
    execFile(binary, args, { cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`cannot run ${binary}: ${error.message}`));
        return;
      }
      resolve({ ok: !error, output: stdout + stderr });
    });
  });
}

/** A fresh directory under .tools/chart-test (gitignored) for rule and test files, removed when the test ends. */
export function scratchDir(prefix: string): string {
  const base = path.join(repoRoot, '.tools', 'chart-test');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, `${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** The rule groups of a rendered PrometheusRule: its spec is a Prometheus rules file. */
export function ruleGroups(rule: Manifest): RuleGroup[] {
  const spec = rule.spec as { groups: RuleGroup[] };
  return spec.groups;
}

/** Every alert rule of a rendered PrometheusRule. */
export function alertRules(rule: Manifest): AlertRule[] {
  return ruleGroups(rule).flatMap((group) => group.rules);
}

/** Writes `{groups}` (alerting or recording rules) as a Prometheus rules file named `name` in `dir`; returns its path. */
export function writeRulesFile(dir: string, name: string, groups: readonly { name: string; rules: readonly object[] }[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify({ groups }, { lineWidth: 0 }));
  return file;
}
