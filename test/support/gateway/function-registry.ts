/** Namespaces, deployed functions and how each function answers invocations. */

export const DEFAULT_FUNCTION_NAMESPACE = 'openfaas-fn';

export interface FunctionResources {
  memory?: string;
  cpu?: string;
}

/** The gateway's FunctionStatus. Everything but `name` and `image` may be absent (Go `omitempty`). */
export interface FunctionStatus {
  name: string;
  image: string;
  namespace?: string;
  /** Filled in by the registry when absent, as the gateway always reports it. */
  createdAt?: string;
  envProcess?: string;
  envVars?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  limits?: FunctionResources;
  requests?: FunctionResources;
  secrets?: string[];
  constraints?: string[];
  readOnlyRootFilesystem?: boolean;
  invocationCount?: number;
  replicas?: number;
  availableReplicas?: number;
  usage?: { cpu?: number; totalMemoryBytes?: number };
}

export interface FunctionBehavior {
  /** Default 200. */
  status?: number;
  /** Default `ok`. */
  body?: string;
  /** Delay before answering, in ms. */
  delayMs?: number;
}

export const DEFAULT_BEHAVIOR: Required<FunctionBehavior> = { status: 200, body: 'ok', delayMs: 0 };

/** A function the cron-connector should pick up: `topic: cron-function` plus a `schedule`. */
export function cronFunction(name: string, schedule: string, extraAnnotations: Record<string, string> = {}): FunctionStatus {
  return {
    name,
    image: 'ghcr.io/openfaas/nodeinfo:latest',
    annotations: { topic: 'cron-function', schedule, ...extraAnnotations },
  };
}

export class FunctionRegistry {
  readonly #functions = new Map<string, Map<string, FunctionStatus>>();
  readonly #behaviors = new Map<string, FunctionBehavior>();

  /** Replaces the set of namespaces: kept ones keep their functions, dropped ones lose them. */
  setNamespaces(names: readonly string[]): void {
    for (const name of [...this.#functions.keys()]) {
      if (!names.includes(name)) this.#functions.delete(name);
    }
    for (const name of names) {
      if (!this.#functions.has(name)) this.#functions.set(name, new Map());
    }
  }

  removeNamespace(namespace: string): void {
    this.#functions.delete(namespace);
  }

  namespaces(): string[] {
    return [...this.#functions.keys()];
  }

  hasNamespace(namespace: string): boolean {
    return this.#functions.has(namespace);
  }

  /** Replaces the functions of `namespace`, adding the namespace if needed. */
  setFunctions(namespace: string, functions: readonly FunctionStatus[]): void {
    const createdAt = new Date().toISOString();
    const byName = new Map<string, FunctionStatus>();
    for (const fn of functions) {
      if (fn.namespace !== undefined && fn.namespace !== namespace) {
        throw new Error(`function ${fn.name} declares namespace ${fn.namespace}, not ${namespace}`);
      }
      byName.set(fn.name, { createdAt, ...structuredClone(fn), namespace });
    }
    this.#functions.set(namespace, byName);
  }

  removeFunction(namespace: string, name: string): void {
    this.#functions.get(namespace)?.delete(name);
  }

  /** Functions of `namespace` (copies), or undefined when the namespace does not exist. */
  list(namespace: string): FunctionStatus[] | undefined {
    const functions = this.#functions.get(namespace);
    return functions === undefined ? undefined : [...functions.values()].map((fn) => structuredClone(fn));
  }

  find(namespace: string, name: string): FunctionStatus | undefined {
    return this.#functions.get(namespace)?.get(name);
  }

  setBehavior(namespace: string, name: string, behavior: FunctionBehavior): void {
    this.#behaviors.set(behaviorKey(namespace, name), { ...behavior });
  }

  behavior(namespace: string, name: string): Required<FunctionBehavior> {
    const behavior = this.#behaviors.get(behaviorKey(namespace, name)) ?? {};
    return {
      status: behavior.status ?? DEFAULT_BEHAVIOR.status,
      body: behavior.body ?? DEFAULT_BEHAVIOR.body,
      delayMs: behavior.delayMs ?? DEFAULT_BEHAVIOR.delayMs,
    };
  }
}

function behaviorKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
