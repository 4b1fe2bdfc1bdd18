/**
 * What the Dockerfile says about the image, read from the Dockerfile itself: the ENTRYPOINT (its
 * node binary and the node flags tests and benchmarks run the connector with), the runtime
 * stage's ENV and LABELs, the install prefix and where the `cron-connector` launcher goes; and
 * replayStage, which runs a stage's COPYs and RUNs as written, on this machine, under a directory
 * standing for the image's /.
 * A small reader for this Dockerfile's forms, not a general parser: it throws on what it cannot read.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const DOCKERFILE = fileURLToPath(new URL('../../Dockerfile', import.meta.url));

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
}

export interface Stage {
  /** `AS <name>`, if any. */
  name: string | undefined;
  instructions: Instruction[];
}

/** The Dockerfile's build stages in order, comments dropped, continuation lines joined. */
export function dockerfileStages(text = readFileSync(DOCKERFILE, 'utf8')): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    // comment lines (also inside a continued instruction) and blank lines are not part of it
    if (line.trimStart().startsWith('#') || line.trim() === '') continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = `${pending}${line.trim()}`;
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(whole);
    if (match !== null) instructions.push({ keyword: (match[1] ?? '').toUpperCase(), args: match[2] ?? '' });
  }
  if (pending !== '') throw new Error(`Dockerfile ends inside a continued instruction: ${pending}`);
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push({ name: /\sAS\s+(\S+)$/i.exec(instruction.args)?.[1], instructions: [] });
    stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** The stage named `name`, or the final (runtime) stage when no name is given. */
function stage(name?: string): Stage {
  const stages = dockerfileStages();
  const found = name === undefined ? stages.at(-1) : stages.find((s) => s.name === name);
  if (found === undefined) throw new Error(`Dockerfile has no ${name ?? 'final'} stage`);
  return found;
}

function argsOf(s: Stage, keyword: string): string[] {
  return s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** `key=value` pairs of ENV or LABEL; values may be double-quoted. */
export function keyValues(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  const rest = args.replace(/([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)/g, (_all, key: string, value: string) => {
    pairs[key] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    return '';
  });
  if (rest.trim() !== '') throw new Error(`cannot read key=value pairs in: ${args}`);
  return pairs;
}

export interface Entrypoint {
  /** The node binary, e.g. /nodejs/bin/node. */
  node: string;
  /** node flags between the binary and the script. */
  flags: string[];
  /** The script node runs. */
  script: string;
}

/** The runtime stage's ENTRYPOINT (exec form): node, its flags, the script. */
export function imageEntrypoint(): Entrypoint {
  const line = argsOf(stage(), 'ENTRYPOINT').at(-1);
  if (line === undefined) throw new Error('Dockerfile has no ENTRYPOINT');
  const argv = JSON.parse(line) as string[];
  const [node, ...rest] = argv;
  const script = rest.pop();
  if (node === undefined || script === undefined) throw new Error(`ENTRYPOINT is not [node, ...flags, script]: ${line}`);
  return { node, flags: rest, script };
}

/**
 * The node flags the container image starts the connector with: the Dockerfile's ENTRYPOINT,
 * between the node binary and the script. Tests and benchmarks run the connector with them.
 */
export function imageNodeFlags(): string[] {
  return imageEntrypoint().flags;
}

/** The runtime stage's ENV, later instructions winning. */
export function imageEnv(): Record<string, string> {
  return Object.assign({}, ...argsOf(stage(), 'ENV').map(keyValues)) as Record<string, string>;
}

/** The runtime stage's LABELs, later instructions winning. */
export function imageLabels(): Record<string, string> {
  return Object.assign({}, ...argsOf(stage(), 'LABEL').map(keyValues)) as Record<string, string>;
}

/** The `--prefix` the install stage installs the production dependencies into (/app). */
export function imageInstallPrefix(): string {
  const prefixes = argsOf(stage('install'), 'RUN').flatMap((run) => [...run.matchAll(/\bnpm ci --prefix (\S+)/g)].map((m) => m[1] ?? ''));
  if (prefixes.length !== 1) throw new Error(`the install stage should run one npm ci --prefix, found ${prefixes.length}`);
  return prefixes[0] ?? '';
}

/** One COPY of a stage: its flags (--from=..., --chmod=...), sources and destination. */
export interface Copy {
  flags: string[];
  sources: string[];
  destination: string;
}

function readCopy(args: string): Copy {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const destination = paths.pop();
  if (destination === undefined || paths.length === 0) throw new Error(`cannot read COPY ${args}`);
  return { flags, sources: paths, destination };
}

/** Every COPY (shell form) of the stage named `name`, or of the final stage. */
export function copiesOf(name?: string): Copy[] {
  return argsOf(stage(name), 'COPY').map(readCopy);
}

/** Every RUN of the stage named `name`, or of the final stage, continuation lines joined. */
export function runsOf(name?: string): string[] {
  return argsOf(stage(name), 'RUN');
}

const exec = promisify(execFile);

export interface Replay {
  /** The directory standing for the image's /: every absolute path of the stage lands under it. */
  root: string;
  /** The build context, for COPYs without --from (the repository). */
  context: string;
  /** For COPY --from=<stage>: the local file standing for each path there, by that path. */
  fromStages: Record<string, string>;
  /** The environment the RUNs start from; the stage's ENV goes over it. */
  env: NodeJS.ProcessEnv;
}

/**
 * `command` with each absolute path (a word starting with /, or the value after an =) moved under
 * `root`. Enough for this Dockerfile's RUNs, which name files only by absolute path.
 */
export function rooted(command: string, root: string): string {
  return command.replace(/(^|[\s=])(\/[^\s;&|'"()]*)/g, (_all, before: string, path: string) => `${before}${join(root, path)}`);
}

/**
 * Runs the stage named `name` as `docker build` would, in order: ENV sets the RUNs' environment,
 * COPY copies (from the build context, or with --from=<stage> the file `fromStages` gives), RUN
 * runs its command with sh -c, RUN flags such as --mount dropped. Paths are moved under `root`
 * (see rooted); commands are this machine's (PATH in `env`). Throws on any other instruction.
 */
export async function replayStage(name: string, replay: Replay): Promise<void> {
  const env = { ...replay.env };
  const [from, ...rest] = stage(name).instructions;
  if (from?.keyword !== 'FROM') throw new Error(`stage ${name} does not start with FROM`);
  for (const { keyword, args } of rest) {
    if (keyword === 'ENV') Object.assign(env, keyValues(args));
    else if (keyword === 'COPY') {
      const { flags, sources, destination } = readCopy(args);
      const fromStage = flags.find((f) => f.startsWith('--from='));
      if (flags.some((f) => f !== fromStage)) throw new Error(`cannot replay the flags of COPY ${args}`);
      for (const source of sources) {
        const local = fromStage === undefined ? join(replay.context, source) : replay.fromStages[source];
        if (local === undefined) throw new Error(`COPY ${args}: nothing stands for ${source} of ${fromStage ?? ''}`);
        const target = join(replay.root, destination.endsWith('/') ? posix.join(destination, posix.basename(source)) : destination);
        await mkdir(join(target, '..'), { recursive: true });
        await cp(local, target, { recursive: true });
      }
    } else if (keyword === 'RUN') {
      const command = args.replace(/^(--\S+\s+)+/, '');
      if (command.startsWith('[')) throw new Error(`cannot replay an exec-form RUN: ${args}`);
      await exec('sh', ['-c', rooted(command, replay.root)], { cwd: replay.root, env, maxBuffer: 16 * 1024 * 1024 });
    } else throw new Error(`cannot replay ${keyword} ${args}`);
  }
}
