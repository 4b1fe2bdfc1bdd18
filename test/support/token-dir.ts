/**
 * Emulates the kubelet's projected ServiceAccount token volume, including its atomic update
 * protocol (the AtomicWriter): every update goes to a fresh timestamped directory, the `..data`
 * symlink is swapped to it with a rename, and the user-visible file is a stable symlink through
 * `..data`. Readers therefore always see a complete old or a complete new token.
 */
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TOKEN_FILE = 'openfaas-token';
const DATA_LINK = '..data';
const DATA_TMP_LINK = '..data_tmp';

export class ProjectedTokenDir {
  /** The volume's mount path: what the connector gets as `token_mount_path`. */
  readonly path: string;

  private constructor(path: string) {
    this.path = path;
  }

  static async create(): Promise<ProjectedTokenDir> {
    return new ProjectedTokenDir(await mkdtemp(join(tmpdir(), 'projected-token-')));
  }

  /** `<path>/openfaas-token`: stays the same across rotations. */
  get tokenPath(): string {
    return join(this.path, TOKEN_FILE);
  }

  /** Writes (or rotates) a JWT, kubelet style. */
  async write(token: string): Promise<void> {
    if (token.split('.').length !== 3) {
      throw new Error('ProjectedTokenDir.write expects a compact JWT; use writeRaw() for other content');
    }
    await this.writeRaw(token);
  }

  /** Same atomic update as `write()`, without checking the content (for garbage tokens). */
  async writeRaw(content: string | Uint8Array): Promise<void> {
    const previous = await this.#currentDataDir();
    const next = timestampedDirName();
    await mkdir(join(this.path, next), { mode: 0o755 });
    await writeFile(join(this.path, next, TOKEN_FILE), content, { mode: 0o644 });
    await rm(join(this.path, DATA_TMP_LINK), { force: true });
    await symlink(next, join(this.path, DATA_TMP_LINK));
    await rename(join(this.path, DATA_TMP_LINK), join(this.path, DATA_LINK));
    await this.#ensureUserVisibleLink();
    if (previous !== undefined) {
      await rm(join(this.path, previous), { recursive: true, force: true });
    }
  }

  /** Deletes the whole volume. */
  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }

  async #currentDataDir(): Promise<string | undefined> {
    return readlinkOrUndefined(join(this.path, DATA_LINK));
  }

  async #ensureUserVisibleLink(): Promise<void> {
    const target = join(DATA_LINK, TOKEN_FILE);
    if ((await readlinkOrUndefined(this.tokenPath)) !== target) {
      await rm(this.tokenPath, { force: true });
      await symlink(target, this.tokenPath);
    }
  }
}

/** `..2026_11_23_13_26_07.123456789`, like Go's `time.Now().UTC().Format("..2006_01_02_15_04_05.")` + TempDir suffix. */
function timestampedDirName(now = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = [
    now.getUTCFullYear(),
    pad(now.getUTCMonth() + 1),
    pad(now.getUTCDate()),
    pad(now.getUTCHours()),
    pad(now.getUTCMinutes()),
    pad(now.getUTCSeconds()),
  ].join('_');
  return `..${stamp}.${randomInt(1_000_000_000)}`;
}

async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (error) {
    if (isErrnoException(error) && (error.code === 'ENOENT' || error.code === 'EINVAL')) return undefined;
    throw error;
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
