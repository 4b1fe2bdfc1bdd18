/**
 * A private CA and a server certificate it signs, generated in-process (selfsigned, EC P-256),
 * for running the emulator over HTTPS: `startGateway({ tls: pki.server })`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TestPkiOptions {
  /** IP addresses in the server certificate's subjectAltName. Default `['127.0.0.1']`. */
  ips?: string[];
  /** DNS names in the server certificate's subjectAltName. Default none. */
  dnsNames?: string[];
  /** A server certificate whose validity ended yesterday. Default false. */
  expired?: boolean;
}

export interface TestPki {
  /** The CA certificate (PEM): what a client must trust, e.g. through NODE_EXTRA_CA_CERTS. */
  caCert: string;
  /** Key and certificate of the server, signed by the CA, for `startGateway({ tls })`. */
  server: { key: string; cert: string };
  /** Writes the CA certificate to a new temporary file and returns its path (see `removeFiles`). */
  writeCaFile(): Promise<string>;
  /** Removes the files `writeCaFile` created. Idempotent. */
  removeFiles(): Promise<void>;
}

const DAY_MS = 86_400_000;

export async function createTestPki(opts: TestPkiOptions = {}): Promise<TestPki> {
  const now = Date.now();
  const ca = await generate([{ name: 'commonName', value: 'cron-connector test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 2 * DAY_MS),
    notAfterDate: new Date(now + 30 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const ips = opts.ips ?? ['127.0.0.1'];
  const dnsNames = opts.dnsNames ?? [];
  const server = await generate([{ name: 'commonName', value: ips[0] ?? dnsNames[0] ?? 'gateway' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    notBeforeDate: new Date(now - 2 * DAY_MS),
    notAfterDate: new Date(opts.expired === true ? now - DAY_MS : now + 30 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...ips.map((ip) => ({ type: 7 as const, ip })), ...dnsNames.map((value) => ({ type: 2 as const, value }))],
      },
    ],
  });
  const dirs: string[] = [];
  return {
    caCert: ca.cert,
    server: { key: server.private, cert: server.cert },
    async writeCaFile() {
      const dir = await mkdtemp(join(tmpdir(), 'cron-connector-ca-'));
      dirs.push(dir);
      const path = join(dir, 'ca.crt');
      await writeFile(path, ca.cert);
      return path;
    },
    async removeFiles() {
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}
