/**
 * The Lease as the election sees it (coordination.k8s.io/v1), without client library types, and
 * the store it is read from and written to. Every write is an optimistic update on
 * resourceVersion: a store answers a stale one with a KubeApiError of status 409.
 */

export interface LeaseSpec {
  readonly holderIdentity?: string | undefined;
  readonly leaseDurationSeconds?: number | undefined;
  /** RFC 3339 with microseconds (metav1.MicroTime), as the API serves it. */
  readonly acquireTime?: string | undefined;
  readonly renewTime?: string | undefined;
  readonly leaseTransitions?: number | undefined;
}

export interface Lease {
  readonly resourceVersion: string;
  readonly spec: LeaseSpec;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface LeaseWrite {
  readonly spec: LeaseSpec;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface LeaseStore {
  /** `<namespace>/<name>`, for messages. */
  readonly ref: string;
  /** The Lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<Lease | undefined>;
  /** Creates the Lease; 409 when it exists already. */
  create(write: LeaseWrite, signal: AbortSignal): Promise<Lease>;
  /** Replaces the Lease if it is still at `resourceVersion`; 409 otherwise. */
  replace(resourceVersion: string, write: LeaseWrite, signal: AbortSignal): Promise<Lease>;
}

/** metav1.MicroTime: RFC 3339 in UTC with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
