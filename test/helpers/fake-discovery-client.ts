/**
 * The gateway calls a Reconciler makes (listNamespaces, fetchFunctionList), answered from data the
 * test sets: function listings are sent as the gateway sends them, JSON bytes in a Buffer. A
 * `gate` lets a test hold any call until it chooses (to move the clock meanwhile, or to count
 * calls in flight).
 */
import { GatewayError } from '../../src/errors.ts';
import type { GatewayClient } from '../../src/gateway/client.ts';

/** A function as GET /system/functions lists it (the fields discovery reads, and some it does not). */
export interface ListedFunction {
  readonly name: string;
  readonly image?: string;
  readonly namespace?: string;
  readonly annotations?: Record<string, string>;
  readonly invocationCount?: number;
  readonly replicas?: number;
}

export type DiscoveryCall =
  | { readonly kind: 'namespaces'; readonly timeoutMs: number }
  | { readonly kind: 'functions'; readonly namespace: string; readonly timeoutMs: number };

/** A cron function listing entry with the connector's default topic. */
export function cronFn(name: string, schedule: string, annotations: Record<string, string> = {}): ListedFunction {
  return { name, image: 'ghcr.io/openfaas/alpine:latest', annotations: { topic: 'cron-function', schedule, ...annotations }, invocationCount: 0, replicas: 1 };
}

/** The error GatewayClient throws for a non-2xx REST answer (without a diagnosis). */
export function statusError(path: string, status: number, body: string): GatewayError {
  return new GatewayError('E_GATEWAY_HTTP', `GET ${path} answered ${status}: ${body}`, { path: path.split('?')[0] ?? path, status });
}

/** The error GatewayClient throws when the connection is refused (without a diagnosis). */
export function networkError(path: string): GatewayError {
  return new GatewayError('E_GATEWAY_NETWORK', `GET ${path} failed: connect ECONNREFUSED 127.0.0.1:8080`, { path });
}

export class FakeDiscoveryClient implements Pick<GatewayClient, 'listNamespaces' | 'fetchFunctionList'> {
  /** What GET /system/namespaces answers: the list, or the error it throws. */
  namespaces: readonly string[] | Error = [];
  /** Every call, in the order made. */
  readonly calls: DiscoveryCall[] = [];
  /** Awaited before a call answers, when set. */
  gate: ((call: DiscoveryCall) => Promise<void>) | undefined;
  private readonly listings = new Map<string, Buffer | Error>();

  /** Sets a namespace's listing (serialized now: the same functions give the same bytes). */
  setFunctions(namespace: string, functions: readonly ListedFunction[]): void {
    this.listings.set(namespace, Buffer.from(JSON.stringify(functions.map((f) => ({ namespace, ...f })))));
  }

  /** Makes a namespace's listing fail with `error`. */
  failFunctions(namespace: string, error: Error): void {
    this.listings.set(namespace, error);
  }

  async listNamespaces(timeoutMs: number): Promise<string[]> {
    const call: DiscoveryCall = { kind: 'namespaces', timeoutMs };
    this.calls.push(call);
    if (this.gate !== undefined) await this.gate(call);
    if (this.namespaces instanceof Error) throw this.namespaces;
    return [...this.namespaces];
  }

  async fetchFunctionList(namespace: string, timeoutMs: number): Promise<{ readonly body: Buffer; readonly path: string }> {
    const call: DiscoveryCall = { kind: 'functions', namespace, timeoutMs };
    this.calls.push(call);
    if (this.gate !== undefined) await this.gate(call);
    const path = `/system/functions?namespace=${namespace}`;
    const listing = this.listings.get(namespace) ?? statusError(path, 404, 'namespace not found');
    if (listing instanceof Error) throw listing;
    return { body: listing, path };
  }

  /** Calls since `from` (an index into calls). */
  since(from: number): DiscoveryCall[] {
    return this.calls.slice(from);
  }
}
