/**
 * Basic-auth mode, as the Community Edition connectors do it: the admin user and password are
 * read from files in secret_mount_path. The files are read again after a 401, so a rotated
 * secret is picked up without a restart.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectorError } from '../errors.ts';
import type { Credentials } from './credentials.ts';

export const BASIC_AUTH_USER_FILE = 'basic-auth-user';
export const BASIC_AUTH_PASSWORD_FILE = 'basic-auth-password';

export class BasicAuthCredentials implements Credentials {
  readonly mode = 'basic';
  private readonly dir: string;
  private header: string | undefined;

  constructor(secretMountPath: string) {
    this.dir = secretMountPath;
  }

  get ready(): boolean {
    return this.header !== undefined;
  }

  async authorization(): Promise<string> {
    this.header ??= await this.read();
    return this.header;
  }

  invalidate(refused: string | undefined): void {
    if (refused === this.header) this.header = undefined;
  }

  stop(): void {}

  private async read(): Promise<string> {
    const [user, password] = await Promise.all([
      this.readFile(BASIC_AUTH_USER_FILE),
      this.readFile(BASIC_AUTH_PASSWORD_FILE),
    ]);
    return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }

  private async readFile(name: string): Promise<string> {
    const path = join(this.dir, name);
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (err) {
      throw new ConnectorError('E_BASIC_AUTH', `cannot read basic-auth file ${path}`, {
        cause: err,
        diagnosis: {
          cause: `the basic-auth secret is not mounted at secret_mount_path (${this.dir})`,
          fix: `mount the gateway's basic-auth secret (keys ${BASIC_AUTH_USER_FILE}, ${BASIC_AUTH_PASSWORD_FILE}) at secret_mount_path, or set basic_auth=false`,
        },
      });
    }
  }
}
