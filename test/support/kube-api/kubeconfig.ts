/** A kubeconfig file pointing at the emulator: one cluster, one token user, one context with a namespace. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** Bearer token of the user. Default `test-token` (the emulator's default user). */
  token?: string;
  /** Read the token from this file instead (`tokenFile`, re-read by client-node on each request). */
  tokenFile?: string;
  /** The context's namespace. Default `openfaas`. */
  namespace?: string;
  /** Name of the kubeconfig user entry. Default `cron-connector`. */
  user?: string;
  /** CA certificate file for an HTTPS emulator (`certificate-authority`). */
  caFile?: string;
  /** CA certificate PEM for an HTTPS emulator (`certificate-authority-data`). */
  caData?: string;
  /**
   * `insecure-skip-tls-verify`. Default: true for plain HTTP — client-node refuses an `http:` server
   * otherwise — and for HTTPS without a CA; false when a CA is given.
   */
  insecureSkipTlsVerify?: boolean;
  /** File name inside `dir`. Default `kubeconfig`. */
  fileName?: string;
}

export const KUBECONFIG_CLUSTER = 'kube-api-emulator';
export const KUBECONFIG_CONTEXT = 'kube-api-emulator';

export function kubeconfigText(server: string, opts: KubeconfigOptions = {}): string {
  const user = opts.user ?? 'cron-connector';
  const hasCa = opts.caFile !== undefined || opts.caData !== undefined;
  const skipVerify = opts.insecureSkipTlsVerify ?? (server.startsWith('http:') || !hasCa);
  const cluster: Record<string, unknown> = { server };
  if (opts.caFile !== undefined) cluster['certificate-authority'] = opts.caFile;
  if (opts.caData !== undefined) cluster['certificate-authority-data'] = Buffer.from(opts.caData).toString('base64');
  if (skipVerify) cluster['insecure-skip-tls-verify'] = true;
  const credentials: Record<string, unknown> = opts.tokenFile !== undefined ? { tokenFile: opts.tokenFile } : { token: opts.token ?? 'test-token' };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: KUBECONFIG_CLUSTER, cluster }],
    users: [{ name: user, user: credentials }],
    contexts: [{ name: KUBECONFIG_CONTEXT, context: { cluster: KUBECONFIG_CLUSTER, user, namespace: opts.namespace ?? 'openfaas' } }],
    'current-context': KUBECONFIG_CONTEXT,
    preferences: {},
  });
}

export async function writeKubeconfigFile(dir: string, server: string, opts: KubeconfigOptions = {}): Promise<string> {
  const path = join(dir, opts.fileName ?? 'kubeconfig');
  await writeFile(path, kubeconfigText(server, opts), { mode: 0o600 });
  return path;
}
