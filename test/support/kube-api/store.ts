/**
 * The emulator's etcd: objects by resource, namespace and name, and one global revision that every
 * stored change (create, update, delete) advances — the `metadata.resourceVersion` clients see.
 */
import type { JsonObject } from './go-json.ts';
import type { KubeResource } from './resources.ts';

/** The first write gets `FIRST_RESOURCE_VERSION + 1`; small integers would hide code that treats versions as counters from 1. */
export const FIRST_RESOURCE_VERSION = 1000;

export class ObjectStore {
  #revision = FIRST_RESOURCE_VERSION;
  readonly #objects = new Map<string, JsonObject>();

  /** The current revision, as a list's `metadata.resourceVersion`. */
  get revision(): string {
    return String(this.#revision);
  }

  /** Advances the revision and returns the new one. */
  nextRevision(): string {
    this.#revision += 1;
    return String(this.#revision);
  }

  /** The stored object itself (callers copy before handing it out). */
  get(resource: KubeResource, namespace: string, name: string): JsonObject | undefined {
    return this.#objects.get(key(resource, namespace, name));
  }

  set(resource: KubeResource, namespace: string, name: string, object: JsonObject): void {
    this.#objects.set(key(resource, namespace, name), object);
  }

  delete(resource: KubeResource, namespace: string, name: string): boolean {
    return this.#objects.delete(key(resource, namespace, name));
  }

  /** Objects of `resource` in `namespace` (all namespaces when undefined), in key order like etcd. */
  list(resource: KubeResource, namespace?: string): JsonObject[] {
    const prefix = namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`;
    return [...this.#objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }
}

function key(resource: KubeResource, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}
