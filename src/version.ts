import { readFileSync } from 'node:fs';

/** The package version, read from the package.json shipped next to dist/. */
function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      return pkg.version;
    }
  } catch {
    // fall through: a missing package.json must not stop the connector
  }
  return '0.0.0-unknown';
}

export const VERSION = readVersion();
export const USER_AGENT = `openfaas-cron-connector/${VERSION}`;
