/**
 * The container image cannot be built here (no container engine), so this replays its install
 * stage: `npm pack` stands for the build stage's tarball, then the Dockerfile's install-stage
 * COPYs and RUNs run as written (test/support/image.ts replayStage), under a directory standing
 * for the image's / — the tarball unpacked, `npm ci --omit=dev --ignore-scripts` of
 * package-lock.json beside its package.json, the package moved into node_modules, the launcher,
 * docker/cron-connector, copied to /app/bin and made read-only. npm runs with an empty cache and
 * through a recording proxy to the registry, so every package it installs is seen fetched. Then
 * the installed tree is compared with the lockfile, and the connector and launcher run from the
 * read-only install.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runConnector, startConnector } from '../support/connector.ts';
import { copiesOf, imageEntrypoint, imageEnv, imageInstallPrefix, imageLabels, imageNodeFlags, replayStage, runsOf } from '../support/image.ts';
import { cronFunction } from '../support/gateway.ts';
import { callsOf, findLeaks, is, world, type World } from '../helpers/fixture.ts';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
/** The launcher as committed; the Dockerfile copies it from the build context. */
const LAUNCHER_SOURCE = 'docker/cron-connector';
/** The image's command name and where the image installs it (issue 9). */
const COMMAND = 'cron-connector';
const IMAGE_LAUNCHER = '/app/bin/cron-connector';
/** What the build stage leaves for the install stage to COPY --from=build: the packed tarball, and the lockfile (the repository's). */
const BUILD_TARBALL = '/pack/cron-connector.tgz';
const BUILD_LOCKFILE = '/src/package-lock.json';

interface LockEntry {
  version?: string;
  name?: string;
  integrity?: string;
  dev?: boolean;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}
const lockfile = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as Lockfile;

/** One request npm made to the registry, as the proxy relayed it. */
interface Fetched {
  method: string;
  path: string;
  status: number;
  /** The body, for tarballs only. */
  body: Buffer | undefined;
}

/** A registry on 127.0.0.1 that relays to `upstream` and records each request. */
async function recordingRegistry(upstream: string): Promise<{ url: string; requests: Fetched[]; close: () => Promise<void> }> {
  const requests: Fetched[] = [];
  const origin = upstream.replace(/\/+$/, '');
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const relay = async (): Promise<void> => {
      const headers: Record<string, string> = {};
      if (req.headers.accept !== undefined) headers['accept'] = req.headers.accept;
      const r = await fetch(`${origin}${path}`, { method: req.method ?? 'GET', headers, signal: AbortSignal.timeout(60_000) });
      let body = Buffer.from(await r.arrayBuffer());
      const tarball = path.endsWith('.tgz');
      // packuments name tarballs by the upstream's address: name them by this one's
      if (!tarball) body = Buffer.from(body.toString('utf8').replaceAll(`${origin}/`, `${self}/`));
      requests.push({ method: req.method ?? 'GET', path, status: r.status, body: tarball ? body : undefined });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    };
    relay().catch((err: unknown) => {
      requests.push({ method: req.method ?? 'GET', path, status: 502, body: undefined });
      res.writeHead(502);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const self = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return { url: `${self}/`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Every package installed under `nodeModules`, nested and @scoped ones too, by its path as the
 * lockfile spells it (node_modules/a/node_modules/@b/c), with the version its package.json says.
 */
async function installedTree(nodeModules: string, at = 'node_modules/', tree = new Map<string, string>()): Promise<Map<string, string>> {
  const names = await readdir(nodeModules).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith('.')) continue; // .bin, .package-lock.json
    const scoped = name.startsWith('@') ? (await readdir(join(nodeModules, name))).map((n) => `${name}/${n}`) : [name];
    for (const pkg of scoped) {
      const dir = join(nodeModules, pkg);
      if ((await lstat(dir)).isSymbolicLink()) {
        tree.set(`${at}${pkg}`, 'a symbolic link');
        continue;
      }
      const { version } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string };
      tree.set(`${at}${pkg}`, version);
      await installedTree(join(dir, 'node_modules'), `${at}${pkg}/node_modules/`, tree);
    }
  }
  return tree;
}

/** How `tree` differs from the lockfile's production packages: a version, a missing, a dev or an unknown package. */
function differencesFromLockfile(tree: Map<string, string>, lock: Lockfile): string[] {
  const differences: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '') continue;
    const installed = tree.get(path);
    if (entry.dev === true) {
      if (installed !== undefined) differences.push(`${path}: dev dependency installed (${installed})`);
    } else if (installed !== entry.version) differences.push(`${path}: ${installed ?? 'missing'}, lockfile ${entry.version ?? 'no version'}`);
  }
  for (const [path, version] of tree) if (lock.packages[path] === undefined) differences.push(`${path}: ${version}, not in the lockfile`);
  return differences;
}

/** The lockfile's production packages (path, entry). */
function productionEntries(lock: Lockfile): Array<[string, LockEntry]> {
  return Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev !== true);
}

/** The registry name of the package at a lockfile path (its `name` when installed under an alias). */
function packageName(path: string, entry: LockEntry): string {
  return entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Whether `body` matches every hash of a Subresource Integrity string (sha512-... ). */
function matchesIntegrity(body: Buffer, integrity: string): boolean {
  return integrity.split(/\s+/).every((sri) => {
    const dash = sri.indexOf('-');
    return dash > 0 && createHash(sri.slice(0, dash)).update(body).digest('base64') === sri.slice(dash + 1);
  });
}

let work: string;
/** Stands for the image's /. */
let root: string;
let prefix: string;
let entry: string;
/** The launcher as the replayed install stage left it: <root>/app/bin/cron-connector. */
let launcher: string;
/** What npm fetched from the registry during the install. */
let fetched: Fetched[];
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
  root = join(work, 'image');
  // no user .npmrc, as in the image build; a fresh cache, so npm fetches every package it installs
  const npmrc = join(work, 'npmrc');
  await writeFile(npmrc, '');
  const upstream = (await exec('npm', ['config', 'get', 'registry'], { cwd: repo })).stdout.trim();
  const registry = await recordingRegistry(upstream);
  try {
    await replayStage('install', {
      root,
      context: repo,
      fromStages: { [BUILD_TARBALL]: join(work, packInfo.filename), [BUILD_LOCKFILE]: join(repo, 'package-lock.json') },
      env: {
        ...process.env,
        // `node` and npm's node: this test's (Node.js 24)
        PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
        npm_config_userconfig: npmrc,
        npm_config_cache: join(work, 'npm-cache'),
        npm_config_registry: registry.url,
      },
    });
  } finally {
    await registry.close();
  }
  fetched = registry.requests;
  prefix = join(root, imageInstallPrefix());
  entry = join(prefix, 'node_modules', 'cron-connector', 'dist', 'main.js');
  launcher = join(root, launcherCopy()[1]);
  hostBin = await installHostLauncher(launcher).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  // the runtime image has no writable filesystem: make the installed tree read-only too
  await exec('chmod', ['-R', 'a-w', work]);
}, 180_000);

afterAll(async () => {
  await exec('chmod', ['-R', 'u+w', work]);
  await rm(work, { recursive: true, force: true });
});

describe('the production dependencies as the image installs them (issue 11)', () => {
  it("should be package-lock.json's production packages exactly: the same version at the same path, no dev dependency", async () => {
    const tree = await installedTree(join(prefix, 'node_modules'));
    // the package itself, from the tarball, is not in its own lockfile
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    expect(tree.get('node_modules/cron-connector')).toBe(version);
    tree.delete('node_modules/cron-connector');
    expect(differencesFromLockfile(tree, lockfile)).toEqual([]);
  });

  it('should tell a version or a dev dependency that the lockfile does not have', async () => {
    const tree = await installedTree(join(prefix, 'node_modules'));
    tree.delete('node_modules/cron-connector');
    // two packages installed as the lockfile says, the first a nested one (node_modules/a/node_modules/b) if any
    const production = productionEntries(lockfile).filter(([path, entry]) => tree.get(path) === entry.version);
    const [changed] = production.find(([path]) => path.lastIndexOf('node_modules/') > 0) ?? production[0] ?? [];
    const [madeDev] = production.find(([path]) => path !== changed) ?? [];
    if (changed === undefined || madeDev === undefined) throw new Error('fewer than two packages are installed as the lockfile says');
    const tampered = structuredClone(lockfile);
    tampered.packages[changed] = { ...tampered.packages[changed], version: `${tree.get(changed) ?? ''}-tampered` };
    tampered.packages[madeDev] = { ...tampered.packages[madeDev], dev: true };
    expect(differencesFromLockfile(tree, tampered).sort()).toEqual(
      [
        ...differencesFromLockfile(tree, lockfile),
        `${changed}: ${tree.get(changed) ?? ''}, lockfile ${tree.get(changed) ?? ''}-tampered`,
        `${madeDev}: dev dependency installed (${tree.get(madeDev) ?? ''})`,
      ].sort(),
    );
  });

  it('should fetch from the registry only what the lockfile pins: each production tarball once, matching its integrity', () => {
    const pinned = new Map<string, string>();
    for (const [path, entry] of productionEntries(lockfile)) {
      const name = packageName(path, entry);
      pinned.set(`/${name}/-/${posix.basename(name)}-${entry.version ?? ''}.tgz`, entry.integrity ?? '');
    }
    const tarballs = fetched.filter((f) => f.path.endsWith('.tgz'));
    expect(tarballs.map((f) => f.path).sort()).toEqual([...pinned.keys()].sort());
    const wrong = tarballs.filter((f) => f.status !== 200 || f.body === undefined || !matchesIntegrity(f.body, pinned.get(f.path) ?? ''));
    expect(wrong.map((f) => f.path)).toEqual([]);
    // and the registry documents of those packages only: the lockfile records no tarball URLs, so
    // npm reads where the pinned version's tarball is there (the version comes from the lockfile)
    const names = new Set(productionEntries(lockfile).map(([path, entry]) => packageName(path, entry)));
    const others = fetched.filter((f) => !f.path.endsWith('.tgz'));
    expect(others.filter((f) => f.method !== 'GET' || f.status !== 200 || !names.has(decodeURIComponent(f.path.slice(1)))).map((f) => `${f.method} ${f.path} ${String(f.status)}`)).toEqual([]);
  });
});

describe('the package as the image installs it', () => {
  it('should hold the built code and docs, where `npm install` of the tarball would put them', async () => {
    const pkg = await readdir(join(prefix, 'node_modules', 'cron-connector'));
    expect(pkg.sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    expect((await readdir(join(prefix, 'node_modules', 'cron-connector', 'dist'))).some((f) => f.endsWith('.map'))).toBe(false);
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
    const installed = launcher;
    expect(relative(prefix, installed)).toBe(posix.relative(imageInstallPrefix(), destination));
    expect((await stat(installed)).mode & 0o777).toBe(0o555);
    expect(await readFile(installed, 'utf8')).toBe(text);
    // the image's /app: no package.json beside bin/ that would decide the launcher's module kind
    expect((await readdir(prefix)).sort()).toEqual(['bin', 'node_modules']);
  });

  it('should print the version through the installed launcher', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await runConnector({}, ['--version'], 10_000, { entry: launcher });
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, version, '']);
  });

  it('should run doctor through the installed launcher against the gateway', async () => {
    const w = await doctorWorld();
    const r = await runConnector(w.env, ['doctor'], 20_000, { entry: launcher });
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
