/**
 * The Kubernetes API through @kubernetes/client-node: `KubeConfig.loadFromDefault()` (KUBECONFIG,
 * ~/.kube/config, else in-cluster), and its CoordinationV1Api for the Lease (TokenRequest is in
 * token-request.ts). The library is loaded only when a feature needs it (leader election,
 * token_source=kubernetes), so a plain single-replica connector does not pay for it. Errors come
 * out as KubeApiError with the status and a diagnosis; nothing the API server answers is quoted
 * beyond a Status body's reason and (scrubbed) message.
 */
import type { ConfigurationOptions, CoordinationV1Api, KubeConfig, V1Lease } from '@kubernetes/client-node';
import { kubeApiFailure, type KubeRequestContext } from '../diagnosis.ts';
import { describeError, KubeApiError } from '../errors.ts';
import type { Lease, LeaseStore, LeaseWrite } from '../leader/lease.ts';
import { scrubSecrets } from '../redact.ts';

type ClientNode = typeof import('@kubernetes/client-node');

export interface KubeConnection {
  readonly kubeConfig: KubeConfig;
  readonly lib: ClientNode;
  /** Where the credentials come from, for messages: `in-cluster ServiceAccount` or `kubeconfig context "x"`. */
  readonly credentials: string;
  /** Milliseconds each request may take. */
  readonly timeoutMs: number;
}

/** client-node's answer when there is no kubeconfig and no in-cluster environment. */
const FALLBACK_SERVER = 'http://localhost:8080';

export async function connectKube(timeoutMs: number): Promise<KubeConnection> {
  const lib = await import('@kubernetes/client-node');
  const kubeConfig = new lib.KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (err) {
    throw new KubeApiError(`cannot load the Kubernetes configuration: ${describeError(err)}`, {
      code: 'E_KUBE_CONFIG',
      diagnosis: { cause: 'the kubeconfig named by KUBECONFIG (or ~/.kube/config) cannot be read', fix: 'point KUBECONFIG at a valid kubeconfig file, or run the connector in a Pod' },
    });
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null || (cluster.server === FALLBACK_SERVER && cluster.name === 'cluster')) {
    throw new KubeApiError('no Kubernetes API to reach: not in a cluster, no KUBECONFIG and no ~/.kube/config', {
      code: 'E_KUBE_CONFIG',
      diagnosis: { cause: 'leader election and token_source=kubernetes need the Kubernetes API', fix: 'run the connector in a Pod (in-cluster configuration) or set KUBECONFIG to a kubeconfig for the cluster' },
    });
  }
  const inCluster = kubeConfig.getCurrentUser()?.name === 'inClusterUser';
  const credentials = inCluster ? 'in-cluster ServiceAccount' : `kubeconfig context "${kubeConfig.getCurrentContext()}"`;
  return { kubeConfig, lib, credentials, timeoutMs };
}

/**
 * Per-request options: a deadline for the request (client-node sets none of its own). The
 * object-parameter API runs observable middleware (client-node's own Observable).
 */
export function withTimeout(lib: ClientNode, timeoutMs: number, signal: AbortSignal): ConfigurationOptions {
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(deadline);
          return new lib.Observable(Promise.resolve(ctx));
        },
        post: (res) => new lib.Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

interface StatusBody {
  readonly reason?: unknown;
  readonly message?: unknown;
}

function statusBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      return statusBody(JSON.parse(body) as unknown);
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body) : undefined;
}

/** A KubeApiError for a failed call: the status, the Status body's reason, the diagnosis. */
export function kubeError(err: unknown, c: KubeRequestContext, timeoutMs: number): KubeApiError {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number' && code >= 100) {
    const body = statusBody((err as { body?: unknown }).body);
    const reason = typeof body?.reason === 'string' ? body.reason : undefined;
    const text = typeof body?.message === 'string' ? scrubSecrets(body.message.slice(0, 300)) : `HTTP ${code}`;
    return new KubeApiError(`Kubernetes API: ${c.verb} ${c.resource} ${c.namespace}/${c.name}: ${code}${reason === undefined ? '' : ` ${reason}`}: ${text}`, {
      status: code,
      reason,
      diagnosis: kubeApiFailure(code, c),
    });
  }
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || (err.cause instanceof Error && err.cause.name === 'TimeoutError'));
  const detail = timedOut ? `no answer within ${timeoutMs} ms` : scrubSecrets(describeError(err));
  return new KubeApiError(`Kubernetes API: ${c.verb} ${c.resource} ${c.namespace}/${c.name}: ${detail}`, {
    cause: err,
    diagnosis: kubeApiFailure(undefined, c),
  });
}

function toLease(body: V1Lease): Lease {
  const spec = body.spec ?? {};
  return {
    resourceVersion: body.metadata?.resourceVersion ?? '',
    spec: {
      holderIdentity: spec.holderIdentity,
      leaseDurationSeconds: spec.leaseDurationSeconds,
      acquireTime: timeText(spec.acquireTime),
      renewTime: timeText(spec.renewTime),
      leaseTransitions: spec.leaseTransitions,
    },
    annotations: { ...(body.metadata?.annotations ?? {}) },
  };
}

/** client-node deserializes MicroTime into a Date; the election works with the text. */
function timeText(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return typeof value === 'string' ? value : undefined;
}

/** The one Lease the election uses, in `namespace`. */
export class KubeLeaseStore implements LeaseStore {
  readonly ref: string;
  private readonly api: CoordinationV1Api;
  private readonly conn: KubeConnection;
  private readonly namespace: string;
  private readonly name: string;

  constructor(conn: KubeConnection, namespace: string, name: string) {
    this.conn = conn;
    this.api = conn.kubeConfig.makeApiClient(conn.lib.CoordinationV1Api);
    this.namespace = namespace;
    this.name = name;
    this.ref = `${namespace}/${name}`;
  }

  private context(verb: string): KubeRequestContext {
    return { verb, resource: 'leases', namespace: this.namespace, name: this.name, credentials: this.conn.credentials };
  }

  private body(write: LeaseWrite, resourceVersion?: string): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        annotations: { ...write.annotations },
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
      },
      // MicroTime fields are sent as the text the election wrote (client-node passes strings through)
      spec: write.spec as V1Lease['spec'],
    };
  }

  async get(signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return toLease(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }, withTimeout(this.conn.lib, this.conn.timeoutMs, signal)));
    } catch (err) {
      const error = kubeError(err, this.context('get'), this.conn.timeoutMs);
      if (error.status === 404 && error.reason !== undefined && error.reason === 'NotFound' && !/namespaces? .* not found/i.test(error.message)) return undefined;
      throw error;
    }
  }

  async create(write: LeaseWrite, signal: AbortSignal): Promise<Lease> {
    try {
      return toLease(await this.api.createNamespacedLease({ namespace: this.namespace, body: this.body(write) }, withTimeout(this.conn.lib, this.conn.timeoutMs, signal)));
    } catch (err) {
      throw kubeError(err, this.context('create'), this.conn.timeoutMs);
    }
  }

  /**
   * Whether this identity may write the Lease, without changing it: a server-side dry run of an
   * update of `existing` as it is (or of a create when there is none). Throws KubeApiError.
   */
  async dryRunWrite(existing: Lease | undefined, signal: AbortSignal): Promise<void> {
    const options = withTimeout(this.conn.lib, this.conn.timeoutMs, signal);
    if (existing === undefined) {
      try {
        await this.api.createNamespacedLease({ namespace: this.namespace, body: this.body({ spec: {}, annotations: {} }), dryRun: 'All' }, options);
      } catch (err) {
        throw kubeError(err, this.context('create'), this.conn.timeoutMs);
      }
      return;
    }
    try {
      const body = this.body({ spec: existing.spec, annotations: existing.annotations }, existing.resourceVersion);
      await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body, dryRun: 'All' }, options);
    } catch (err) {
      throw kubeError(err, this.context('update'), this.conn.timeoutMs);
    }
  }

  async replace(resourceVersion: string, write: LeaseWrite, signal: AbortSignal): Promise<Lease> {
    try {
      const body = this.body(write, resourceVersion);
      return toLease(await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }, withTimeout(this.conn.lib, this.conn.timeoutMs, signal)));
    } catch (err) {
      throw kubeError(err, this.context('update'), this.conn.timeoutMs);
    }
  }
}
