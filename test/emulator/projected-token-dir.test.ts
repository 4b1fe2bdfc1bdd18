import { lstat, readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectedTokenDir } from '../support/token-dir.ts';

const jwtLike = (n: number): string => `header${n}.payload${n}.signature${n}`;

describe('projected token volume', () => {
  let volume: ProjectedTokenDir;

  beforeEach(async () => {
    volume = await ProjectedTokenDir.create();
  });
  afterEach(() => volume.remove());

  it('lays out the token like the kubelet: a stable symlink through ..data to a timestamped directory', async () => {
    await volume.write(jwtLike(1));

    expect(volume.tokenPath).toBe(join(volume.path, 'openfaas-token'));
    expect(await readlink(volume.tokenPath)).toBe(join('..data', 'openfaas-token'));
    expect(await readlink(join(volume.path, '..data'))).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/);
    expect(await readFile(volume.tokenPath, 'utf8')).toBe(jwtLike(1));
  });

  it('keeps the path and swaps the content on rotation, deleting the old directory', async () => {
    await volume.write(jwtLike(1));
    const firstTarget = await realpath(volume.tokenPath);
    await volume.write(jwtLike(2));

    expect(await readFile(volume.tokenPath, 'utf8')).toBe(jwtLike(2));
    expect(await realpath(volume.tokenPath)).not.toBe(firstTarget);
    expect((await lstat(volume.tokenPath)).isSymbolicLink()).toBe(true);
    const entries = await readdir(volume.path);
    expect(entries.filter((name) => name.startsWith('..') && name !== '..data')).toHaveLength(1);
    expect(entries).not.toContain('..data_tmp');
  });

  it('never shows a reader a missing or partial token while rotating', async () => {
    const written = new Set<string>([jwtLike(0)]);
    await volume.write(jwtLike(0));
    let rotating = true;
    const observed: string[] = [];
    const reader = (async () => {
      while (rotating) observed.push(await readFile(volume.tokenPath, 'utf8').catch((error: unknown) => `read failed: ${String(error)}`));
    })();

    for (let n = 1; n <= 100; n++) {
      written.add(jwtLike(n));
      await volume.write(jwtLike(n));
    }
    rotating = false;
    await reader;

    expect(observed.length).toBeGreaterThan(0);
    expect(observed.filter((content) => !written.has(content))).toEqual([]);
  });

  it('writes arbitrary content with writeRaw but only JWTs with write', async () => {
    await volume.writeRaw('not a token');
    expect(await readFile(volume.tokenPath, 'utf8')).toBe('not a token');
    await expect(volume.write('not a token')).rejects.toThrow(/expects a compact JWT/);
  });

  it('removes the whole volume', async () => {
    await volume.write(jwtLike(1));
    await volume.remove();
    await expect(readdir(volume.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
