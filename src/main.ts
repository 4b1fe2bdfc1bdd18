#!/usr/bin/env node
/**
 * Entry point, and the only place that exits. It checks the runtime first, with nothing else
 * loaded (on an old Node.js the libraries would fail with errors that do not say what is wrong),
 * then runs the command line (src/cli.ts).
 */
import { runtimeProblem } from './runtime.ts';

const problem = runtimeProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
const { run } = await import('./cli.ts');
const exit = (code: number): never => process.exit(code);
run(process.argv.slice(2), exit).then(exit, (err: unknown) => {
  process.stderr.write(`cron-connector: fatal: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(1);
});
