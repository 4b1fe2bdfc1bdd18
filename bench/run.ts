/**
 * `npm run bench` → `npm run build && node bench/run.ts`: runs every scenario against the built
 * connector and writes BENCHMARKS.md and bench/results.json.
 *
 *   node bench/run.ts                     full run (about 40 minutes on 2 cores), writes both files
 *   node bench/run.ts --smoke             every scenario at a tiny size, once (seconds); writes nothing
 *   node bench/run.ts --only=lateness,idle   some scenarios; writes nothing unless --out/--json
 *   --out=FILE    write the Markdown report there     --json=FILE   write the raw results there
 *   --no-write    write nothing (print the target table only)
 *   --render=FILE re-render the report (and the targets, with --json) from saved results without running
 *   --merge=FILE  run the --only scenarios again and merge them into saved results (e.g. after a noisy
 *                 stretch); writes BENCHMARKS.md and the JSON file unless told otherwise
 *
 * Benchmarks are not tests: the exit code is 0 whenever the suite ran, whatever the figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractNotes, renderMarkdown } from './lib/report.ts';
import { judge, neverEarly, runSuite, SCENARIOS, type ScenarioName, type SuiteResults } from './suite.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const known = new Set(['smoke', 'no-write', 'only', 'out', 'json', 'render', 'merge']);
for (const a of args) {
  const name = a.replace(/^--/, '').split('=')[0] ?? '';
  if (!a.startsWith('--') || !known.has(name)) {
    process.stderr.write(`bench: unknown argument ${a}\n`);
    process.exit(2);
  }
}

const smoke = flag('smoke');
const only = (option('only') ?? '').split(',').filter((s) => s !== '') as ScenarioName[];
for (const s of only) {
  if (!(SCENARIOS as readonly string[]).includes(s)) {
    process.stderr.write(`bench: unknown scenario ${s} (known: ${SCENARIOS.join(', ')})\n`);
    process.exit(2);
  }
}
const render = option('render');
const merge = option('merge');
if (merge !== undefined && (only.length === 0 || smoke)) {
  process.stderr.write('bench: --merge needs --only=<scenarios> and a full run\n');
  process.exit(2);
}
const defaultWrite = !smoke && (only.length === 0 || merge !== undefined) && !flag('no-write');
const out = flag('no-write') ? undefined : (option('out') ?? (defaultWrite ? `${ROOT}BENCHMARKS.md` : undefined));
const json = flag('no-write') ? undefined : (option('json') ?? (defaultWrite && render === undefined ? (merge ?? `${ROOT}bench/results.json`) : undefined));

const started = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
};

let results: SuiteResults;
if (render !== undefined) {
  // JSON turns NaN into null; the renderer treats both as "no figure".
  const saved = JSON.parse(readFileSync(render, 'utf8')) as SuiteResults;
  results = { ...saved, targets: judge(saved) };
} else if (merge !== undefined) {
  const saved = JSON.parse(readFileSync(merge, 'utf8')) as SuiteResults;
  const fresh = await runSuite({ mode: 'full', only, log });
  const merged: SuiteResults = { ...saved };
  for (const name of only) Object.assign(merged, { [name]: fresh[name] });
  const reruns = [...(saved.reruns ?? []), { scenarios: only, at: fresh.startedAt, loadAtStart: fresh.loadAtStart, revision: fresh.machine.revision }];
  const early = neverEarly(merged.lateness, merged.throughput, merged.idle, merged.churn, merged.schedules, merged.ha);
  results = { ...merged, reruns, neverEarly: early, targets: judge({ ...merged, neverEarly: early }) };
} else {
  results = await runSuite({ mode: smoke ? 'smoke' : 'full', only, log });
}
if (json !== undefined) writeFileSync(json, `${JSON.stringify(results, null, 1)}\n`);

if (out !== undefined) {
  const notes = extractNotes(existsSync(out) ? readFileSync(out, 'utf8') : undefined);
  writeFileSync(out, renderMarkdown(results, notes));
}

process.stdout.write(`\n${results.mode} run, ${results.durationS} s\n`);
for (const t of results.targets) {
  const verdict = t.met === undefined ? 'not judged' : t.met ? 'MET' : 'NOT MET';
  process.stdout.write(`- ${t.target}: ${t.measured} [${verdict}]\n`);
}
if (out !== undefined) process.stdout.write(`wrote ${out}\n`);
if (json !== undefined) process.stdout.write(`wrote ${json}\n`);
