/**
 * Step 4 (I/O): what the connector's credentials let it see, with the daemon's GatewayClient:
 * the namespaces, then each namespace's functions (a few at a time). Failures are kept, not thrown.
 */
import type { GatewayClient } from '../../gateway/client.ts';
import type { GatewayFunction } from '../../gateway/types.ts';

export type NamespaceListing =
  | { readonly namespace: string; readonly ok: true; readonly functions: readonly GatewayFunction[] }
  | { readonly namespace: string; readonly ok: false; readonly error: unknown };

export type Discovery =
  | { readonly ok: true; readonly namespaces: readonly string[]; readonly listings: readonly NamespaceListing[] }
  | { readonly ok: false; readonly error: unknown };

const CONCURRENCY = 8;

async function listOne(client: GatewayClient, namespace: string, timeoutMs: number): Promise<NamespaceListing> {
  try {
    return { namespace, ok: true, functions: await client.listFunctions(namespace, timeoutMs) };
  } catch (error) {
    return { namespace, ok: false, error };
  }
}

async function listAll(client: GatewayClient, namespaces: readonly string[], timeoutMs: number): Promise<NamespaceListing[]> {
  const results = new Array<NamespaceListing>(namespaces.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < namespaces.length; i = next++) {
      results[i] = await listOne(client, namespaces[i] ?? '', timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, namespaces.length) }, worker));
  return results;
}

/** Every call is bounded by `timeoutMs` (rebuild_timeout). */
export async function discover(client: GatewayClient, timeoutMs: number): Promise<Discovery> {
  let namespaces: string[];
  try {
    namespaces = await client.listNamespaces(timeoutMs);
  } catch (error) {
    return { ok: false, error };
  }
  return { ok: true, namespaces, listings: await listAll(client, namespaces, timeoutMs) };
}
