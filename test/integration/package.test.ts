/**
 * The container image cannot be built here (no container engine), so this reproduces its
 * install step exactly: `npm pack`, then `npm install --omit=dev --ignore-scripts` of the tarball
 * into an empty prefix (Dockerfile stage 2, which also removes the prefix's package.json and adds
 * the `cron-connector` launcher, docker/cron-connector, where the Dockerfile puts it), and runs the
 * installed connector and launcher from the read-only install.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runConnector, startConnector } from '../support/connector.ts';
import { copiesOf, imageEntrypoint, imageEnv, imageInstallPrefix, imageLabels, imageNodeFlags, runsOf } from '../support/image.ts';
import { cronFunction } from '../support/gateway.ts';
import { callsOf, findLeaks, is, world, type World } from '../helpers/fixture.ts';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
/** The launcher as committed; the Dockerfile copies it from the build context. */
const LAUNCHER_SOURCE = 'docker/cron-connector';
/** The image's command name and where the image installs it (issue 9). */
const COMMAND = 'cron-connector';
const IMAGE_LAUNCHER = '/app/bin/cron-connector';

let work: string;
let prefix: string;
let entry: string;
/** The launcher installed at <prefix>/bin/cron-connector, byte for byte, mode 0555; or why not. */
let launcher: string | Error;
/**
 * The same launcher bytes with this test's node in the shebang line (/nodejs/bin/node does not
 * exist here), in <work>/host/bin beside a link to the install's node_modules: run by name from
 * PATH through its shebang, as `kubectl exec` runs it.
 */
let hostBin: string | Error;

/** The Dockerfile's install-stage COPY of the launcher, as [source, destination]. */
function launcherCopy(): [string, string] {
  const copy = copiesOf('install').find((c) => c.sources.includes(LAUNCHER_SOURCE));
  if (copy === undefined) throw new Error(`the Dockerfile's install stage does not COPY ${LAUNCHER_SOURCE}`);
  return [LAUNCHER_SOURCE, copy.destination];
}

async function installLauncher(): Promise<string> {
  const [source, destination] = launcherCopy();
  const installed = join(prefix, relative(imageInstallPrefix(), destination));
  await mkdir(dirname(installed), { recursive: true });
  await copyFile(join(repo, source), installed);
  await chmod(installed, 0o555);
  return installed;
}

async function installHostLauncher(installed: string): Promise<string> {
  const host = join(work, 'host');
  const copy = join(host, relative(prefix, installed));
  await mkdir(dirname(copy), { recursive: true });
  await symlink(join(prefix, 'node_modules'), join(host, 'node_modules'));
  const text = await readFile(installed, 'utf8');
  const shebang = `#!${imageEntrypoint().node}\n`;
  if (!text.startsWith(shebang)) throw new Error(`${LAUNCHER_SOURCE} does not start with ${JSON.stringify(shebang)}`);
  await writeFile(copy, `#!${process.execPath}\n${text.slice(shebang.length)}`, { mode: 0o555 });
  return dirname(copy);
}

/** A value set up in beforeAll, or the error that kept it from being set up. */
function ready(value: string | Error): string {
  if (value instanceof Error) throw value;
  return value;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cc-image-'));
  const packed = await exec('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo });
  const [packInfo] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
  if (packInfo === undefined) throw new Error(`npm pack printed no file: ${packed.stdout}`);
  const filename = packInfo.filename;
  prefix = join(work, 'app');
  await exec('npm', ['install', '--prefix', prefix, '--omit=dev', '--ignore-scripts', '--no-package-lock', '--no-audit', '--no-fund', join(work, filename)], {
    cwd: work,
  });
  entry = join(prefix, 'node_modules', 'cron-connector', 'dist', 'main.js');
  // as the install stage does: no package.json near the launcher says what kind of module it is
  await rm(join(prefix, 'package.json'), { force: true });
  launcher = await installLauncher().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  hostBin = launcher instanceof Error ? launcher : await installHostLauncher(launcher).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  // the runtime image has no writable filesystem: make the installed tree read-only too
  await exec('chmod', ['-R', 'a-w', work]);
}, 180_000);

afterAll(async () => {
  await exec('chmod', ['-R', 'u+w', work]);
  await rm(work, { recursive: true, force: true });
});

describe('the package as the image installs it', () => {
  it('should hold only the built code, docs and production dependencies', async () => {
    const installed = join(prefix, 'node_modules');
    const names = await readdir(installed);
    for (const dev of ['vitest', 'typescript', 'node', 'yaml', 'ajv', 'kubernetes-models']) expect(names).not.toContain(dev);
    for (const dep of ['croner', 'undici', 'jose', 'pino', '@kubernetes']) expect(names).toContain(dep);
    // @kubernetes/client-node lists type packages among its dependencies: only those are there
    const clientNode = JSON.parse(await readFile(join(installed, '@kubernetes', 'client-node', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const typesWanted = Object.keys(clientNode.dependencies).filter((d) => d.startsWith('@types/')).map((d) => d.slice('@types/'.length));
    const typesThere = names.includes('@types') ? await readdir(join(installed, '@types')) : [];
    for (const t of typesThere) expect(typesWanted.includes(t), `@types/${t}`).toBe(true);
    const pkg = await readdir(join(installed, 'cron-connector'));
    expect(pkg.sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    expect((await readdir(join(installed, 'cron-connector', 'dist'))).some((f) => f.endsWith('.map'))).toBe(false);
    expect((await stat(entry)).isFile()).toBe(true);
  });

  it('should print its version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await runConnector({}, ['--version'], 10_000, { entry });
    const flags = imageNodeFlags();
    expect(flags.length).toBeGreaterThan(0);
    const accepted = await exec(process.execPath, [...flags, '-e', 'process.stdout.write("ok")']);
    expect(accepted.stdout).toBe('ok');
    expect([r.code, r.stdout.trim()]).toEqual([0, version]);
  });

  it('should run for real against the gateway from a read-only install and stop cleanly', async () => {
    const w = await world({ iam: { resource: ['dev:*'] } });
    w.gateway.setFunctions('dev', [cronFunction('packaged', '* * * * * *')]);
    // with the node flags of the image's ENTRYPOINT: a flag this runtime does not know fails here
    const connector = await startConnector({ ...w.env, log_encoding: 'json', http_port: '0', rebuild_interval: '1s' }, { entry, nodeArgs: imageNodeFlags() });
    await connector.waitForLog(is('Added', { function: 'packaged.dev' }));
    await w.gateway.waitFor(() => callsOf(w.gateway, 'packaged', 'dev').length >= 1, 5000, 'an invocation');
    await connector.waitForLog(is('Response', { function: 'packaged.dev', status: 200 }));
    expect(await connector.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('should name this repository as its source (ghcr.io links the package to it)', () => {
    const values = parse(readFileSync(join(repo, 'chart', 'cron-connector', 'values.yaml'), 'utf8')) as { image: { repository: string } };
    const [registry, ...path] = values.image.repository.split('/');
    expect(registry).toBe('ghcr.io');
    expect(imageLabels()['org.opencontainers.image.source']).toBe(`https://github.com/${path.join('/')}`);
  });
});

describe('`cron-connector` in the image: kubectl exec deploy/<release>-cron-connector -- cron-connector doctor (issue 9)', () => {
  /** A world with one selected function in dev, as doctor should find it. */
  async function doctorWorld(): Promise<World> {
    const w = await world({ iam: { resource: ['dev:*'] } });
    w.gateway.setFunctions('dev', [cronFunction('packaged', '*/5 * * * *')]);
    return w;
  }

  function expectHealthyDoctor(w: World, r: { code: number | null; stdout: string; stderr: string }): void {
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^cron-connector doctor \d+\.\d+\.\d+/);
    expect(r.stdout).toContain(`✓ token exchange   access token for ${w.iam.subject}`);
    expect(r.stdout).toContain('selected: packaged');
    expect(r.stdout).not.toMatch(/^✗/m);
    expect(r.code).toBe(0);
  }

  it('should be installed on the image PATH and run by the ENTRYPOINT node', async () => {
    const [, destination] = launcherCopy();
    expect(destination).toBe(IMAGE_LAUNCHER);
    expect(posix.basename(destination)).toBe(COMMAND);
    // read-only and executable for the image's non-root user; the runtime stage copies it from the install stage
    expect(runsOf('install').some((run) => run.includes(`chmod 0555 ${destination}`))).toBe(true);
    expect(copiesOf()).toContainEqual({ flags: ['--from=install'], sources: [posix.dirname(destination)], destination: posix.dirname(destination) });
    // the allow-listed build context lets the launcher in
    expect(readFileSync(join(repo, '.dockerignore'), 'utf8').split('\n')).toContain(`!${posix.dirname(LAUNCHER_SOURCE)}/`);
    // the first directory of the image's PATH, so the command resolves by name to the launcher
    const path = imageEnv()['PATH']?.split(':') ?? [];
    expect(path[0]).toBe(posix.dirname(destination));
    expect(path).not.toContain('');
    // the shebang is the ENTRYPOINT's node, exactly (no /usr/bin/env, which the image lacks; no CR)
    const text = await readFile(join(repo, LAUNCHER_SOURCE), 'utf8');
    const { node } = imageEntrypoint();
    expect(text.split('\n')[0]).toBe(`#!${node}`);
    // the installed copy is the committed file, mode 0555, at the same place under the prefix
    const installed = ready(launcher);
    expect(relative(prefix, installed)).toBe(posix.relative(imageInstallPrefix(), destination));
    expect((await stat(installed)).mode & 0o777).toBe(0o555);
    expect(await readFile(installed, 'utf8')).toBe(text);
    // the image's /app: no package.json beside bin/ that would decide the launcher's module kind
    expect((await readdir(prefix)).sort()).toEqual(['bin', 'node_modules']);
  });

  it('should print the version through the installed launcher', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await runConnector({}, ['--version'], 10_000, { entry: ready(launcher) });
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, version, '']);
  });

  it('should run doctor through the installed launcher against the gateway', async () => {
    const w = await doctorWorld();
    const r = await runConnector(w.env, ['doctor'], 20_000, { entry: ready(launcher) });
    expectHealthyDoctor(w, r);
  });

  it('should run `cron-connector doctor` by name from the image PATH, through the shebang, in WORKDIR', async () => {
    const w = await doctorWorld();
    const bin = ready(hostBin);
    // the image's PATH with its launcher directory mapped to this install's; nothing else here has the command
    const imagePath = imageEnv()['PATH'] ?? '';
    const PATH = imagePath
      .split(':')
      .map((dir) => (dir === posix.dirname(IMAGE_LAUNCHER) ? bin : dir))
      .join(':');
    const r = await exec(COMMAND, ['doctor'], { cwd: prefix, env: { ...w.env, PATH }, timeout: 20_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code?: unknown; stdout?: string; stderr?: string; message: string }) => {
        if (typeof err.code !== 'number') throw new Error(`${COMMAND} doctor did not run: ${err.message}`);
        return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
      },
    );
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    expect(findLeaks([{ lines }], [...w.projected, ...w.gateway.issuedTokens])).toEqual([]);
    expectHealthyDoctor(w, r);
  });
});
