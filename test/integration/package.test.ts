/**
 * The container image cannot be built here (no container engine), so this reproduces its
 * install step exactly: `npm pack`, then `npm install --omit=dev --ignore-scripts` of the tarball
 * into an empty prefix (Dockerfile stage 2), and runs the installed connector.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector, startConnector } from '../support/connector.ts';
import { imageNodeFlags } from '../support/image.ts';
import { cronFunction } from '../support/gateway.ts';
import { callsOf, is, world } from '../helpers/fixture.ts';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
let work: string;
let entry: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cc-image-'));
  const packed = await exec('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo });
  const [packInfo] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
  if (packInfo === undefined) throw new Error(`npm pack printed no file: ${packed.stdout}`);
  const filename = packInfo.filename;
  const prefix = join(work, 'app');
  await exec('npm', ['install', '--prefix', prefix, '--omit=dev', '--ignore-scripts', '--no-package-lock', '--no-audit', '--no-fund', join(work, filename)], {
    cwd: work,
  });
  entry = join(prefix, 'node_modules', 'cron-connector', 'dist', 'main.js');
  // the runtime image has no writable filesystem: make the installed tree read-only too
  await exec('chmod', ['-R', 'a-w', join(prefix, 'node_modules')]);
}, 180_000);

afterAll(async () => {
  await exec('chmod', ['-R', 'u+w', work]);
  await rm(work, { recursive: true, force: true });
});

describe('the package as the image installs it', () => {
  it('should hold only the built code, docs and production dependencies', async () => {
    const installed = join(work, 'app', 'node_modules');
    const names = await readdir(installed);
    for (const dev of ['vitest', 'typescript', 'node', '@types', 'yaml', 'ajv', 'kubernetes-models']) expect(names).not.toContain(dev);
    for (const dep of ['croner', 'undici', 'jose', 'pino']) expect(names).toContain(dep);
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
});

