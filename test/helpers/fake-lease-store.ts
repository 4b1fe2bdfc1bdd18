/**
 * An in-memory Lease for the election's unit tests: resourceVersion compare-and-swap, optional
 * latency on the manual clock, an outage switch, and every request recorded with its time.
 */
import { KubeApiError } from '../../src/errors.ts';
import type { Lease, LeaseStore, LeaseWrite } from '../../src/leader/lease.ts';
import type { ManualClock } from './manual-clock.ts';

export interface StoreRequest {
  readonly at: number;
  readonly verb: 'get' | 'create' | 'update';
  /** Which client made it. */
  readonly client: string;
  readonly ok: boolean;
}

export class FakeLeaseStore {
  readonly ref = 'openfaas/cron-connector';
  readonly requests: StoreRequest[] = [];
  private readonly clock: ManualClock;
  private version = 0;
  private current: Lease | undefined;
  /** While true every request fails as if the API server were unreachable. */
  down = false;
  /** Milliseconds each request takes (on the manual clock). */
  latencyMs = 0;
  /** Clients cut off from the API server (a crashed or partitioned replica). */
  readonly partitioned = new Set<string>();

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  get lease(): Lease | undefined {
    return this.current;
  }

  /** Changes the Lease behind every client's back (a kubectl edit). */
  set(write: LeaseWrite): Lease {
    const lease: Lease = { resourceVersion: String(++this.version), spec: { ...write.spec }, annotations: { ...write.annotations } };
    this.current = lease;
    return lease;
  }

  writes(client?: string): StoreRequest[] {
    return this.requests.filter((r) => r.verb !== 'get' && (client === undefined || r.client === client));
  }

  /** A LeaseStore for one replica. */
  client(name: string): LeaseStore {
    return {
      ref: this.ref,
      get: (signal) => this.request(name, 'get', signal, () => this.current),
      create: (write, signal) =>
        this.request(name, 'create', signal, () => {
          if (this.current !== undefined) throw new KubeApiError('exists', { status: 409, reason: 'AlreadyExists' });
          return this.set(write);
        }),
      replace: (resourceVersion, write, signal) =>
        this.request(name, 'update', signal, () => {
          if (this.current === undefined) throw new KubeApiError('not found', { status: 404, reason: 'NotFound' });
          if (this.current.resourceVersion !== resourceVersion) throw new KubeApiError('conflict', { status: 409, reason: 'Conflict' });
          return this.set(write);
        }),
    };
  }

  private async request<T>(client: string, verb: StoreRequest['verb'], signal: AbortSignal, apply: () => T): Promise<T> {
    const at = this.clock.now();
    if (this.latencyMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = this.clock.setTimer(resolve, this.latencyMs);
        signal.addEventListener('abort', () => {
          timer.cancel();
          reject(new KubeApiError('aborted', {}));
        });
      });
    }
    if (this.down || this.partitioned.has(client)) {
      this.requests.push({ at, verb, client, ok: false });
      throw new KubeApiError('Kubernetes API: connect ECONNREFUSED', {});
    }
    try {
      const result = apply();
      this.requests.push({ at, verb, client, ok: true });
      return result;
    } catch (err) {
      this.requests.push({ at, verb, client, ok: false });
      throw err;
    }
  }
}
