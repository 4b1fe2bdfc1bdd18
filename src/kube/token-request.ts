/**
 * The TokenRequest API through @kubernetes/client-node (CoreV1Api.createNamespacedServiceAccountToken),
 * for token_source=kubernetes (src/auth/kube-token.ts). The library is loaded by connectKube, at
 * the first request. Errors come out as KubeApiError with the status and a diagnosis (a 403 names
 * the RBAC rule: create on serviceaccounts/token for that ServiceAccount); the minted token is
 * never part of one.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import type { MintedToken, TokenRequestClient, TokenRequestSpec } from '../auth/kube-token.ts';
import type { KubeRequestContext } from '../diagnosis.ts';
import { KubeApiError } from '../errors.ts';
import { connectKube, kubeError, withTimeout, type KubeConnection } from './api.ts';

export const TOKEN_REQUEST_API_VERSION = 'authentication.k8s.io/v1';

/** Connects to the Kubernetes API (KUBECONFIG, ~/.kube/config, else in-cluster); each request may take `timeoutMs`. */
export async function connectTokenRequest(timeoutMs: number): Promise<KubeTokenRequestClient> {
  return new KubeTokenRequestClient(await connectKube(timeoutMs));
}

export class KubeTokenRequestClient implements TokenRequestClient {
  readonly credentials: string;
  private readonly conn: KubeConnection;
  private readonly api: CoreV1Api;

  constructor(conn: KubeConnection) {
    this.conn = conn;
    this.credentials = conn.credentials;
    this.api = conn.kubeConfig.makeApiClient(conn.lib.CoreV1Api);
  }

  async createToken(spec: TokenRequestSpec, signal: AbortSignal): Promise<MintedToken> {
    const { namespace, name } = spec;
    const context: KubeRequestContext = { verb: 'create', resource: 'serviceaccounts/token', namespace, name, credentials: this.credentials };
    let answer;
    try {
      answer = await this.api.createNamespacedServiceAccountToken(
        {
          name,
          namespace,
          body: {
            apiVersion: TOKEN_REQUEST_API_VERSION,
            kind: 'TokenRequest',
            spec: { audiences: [...spec.audiences], expirationSeconds: spec.expirationSeconds },
          },
        },
        withTimeout(this.conn.lib, this.conn.timeoutMs, signal),
      );
    } catch (err) {
      throw kubeError(err, context, this.conn.timeoutMs);
    }
    const token = answer.status?.token;
    if (typeof token !== 'string' || token === '') {
      throw new KubeApiError(`Kubernetes API: create serviceaccounts/token ${namespace}/${name}: the answer holds no status.token`, {
        diagnosis: {
          cause: `the Kubernetes API server (${this.credentials}) answered the TokenRequest without a token`,
          fix: `check that the kubeconfig points at a Kubernetes API server: "kubectl create token ${name} -n ${namespace}" with the same kubeconfig prints a token`,
        },
      });
    }
    const expires = answer.status?.expirationTimestamp;
    const expiresAtMs = expires instanceof Date && !Number.isNaN(expires.getTime()) ? expires.getTime() : undefined;
    return { token, expiresAtMs };
  }
}
