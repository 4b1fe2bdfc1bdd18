/** Messages between the harness and bench/gateway-server.ts (IPC, structured clone). */

export type ScheduleSpec =
  | { readonly kind: 'fixed'; readonly expr: string; readonly alt?: string }
  /** 1440 distinct daily expressions that only fire on 1 January (alternative: 2 January). */
  | { readonly kind: 'spread' };

export interface PopulationGroup {
  readonly nsPrefix: string;
  /** 1: the namespace is named nsPrefix; more: nsPrefix-0000, nsPrefix-0001, ... */
  readonly namespaces: number;
  readonly perNamespace: number;
  readonly namePrefix: string;
  readonly schedule: ScheduleSpec;
}

export interface PopulationSpec {
  readonly groups: readonly PopulationGroup[];
  /** Return every function's invocation path and expression (for the baselines). */
  readonly returnList?: boolean;
}

/** On every pass (GET /system/namespaces), `namespace` gets `size` brand-new functions, replacing the previous ones. */
export interface ChurnSpec {
  readonly namespace: string;
  readonly size: number;
  readonly schedule: string;
}

export type GatewayCommand =
  | { readonly cmd: 'setPopulation'; readonly spec: PopulationSpec }
  /** From the `fromPass`-th GET /system/namespaces on, flip `count` schedules (spread over all namespaces) before answering. */
  | { readonly cmd: 'mutateOnPasses'; readonly fromPass: number; readonly count: number }
  | { readonly cmd: 'churn'; readonly spec: ChurnSpec }
  /** full: keep every invocation; otherwise counts only (long runs). */
  | { readonly cmd: 'recordMode'; readonly full: boolean }
  /** Invocations so far, and first attempts for one nominal time. */
  | { readonly cmd: 'count'; readonly nominal?: number }
  | { readonly cmd: 'takeInvocations' }
  | { readonly cmd: 'takeCalls' }
  /** Re-anchor the arrival clock to Date.now(); answers the drift since the previous anchor. */
  | { readonly cmd: 'anchor' };

export interface InvocationRecords {
  /** Request path, e.g. /function/fn00001.bench. */
  readonly path: string[];
  /** Arrival, ms since the epoch, high resolution (performance.timeOrigin + performance.now(), anchored to Date.now()). */
  readonly at: number[];
  /** Arrival as Date.now() (integer ms), for the never-early check. */
  readonly wall: number[];
  /** X-Cron-Scheduled-Time, ms since the epoch (NaN when absent). */
  readonly nominal: number[];
  readonly attempt: number[];
  /** X-Cron-Execution-Id ('' when absent). */
  readonly execId: string[];
  /** Invocations from the connector. */
  total: number;
  /** Connector invocations whose Date.now() at arrival was before their nominal time. */
  early: number;
  /** Invocations from the naive baseline (marked ?via=naive). */
  naiveTotal: number;
  naiveEarly: number;
  /** Invocations from the bare client (marked ?via=bare). */
  bareTotal: number;
  bareEarly: number;
  retries: number;
  maxLatenessMs: number;
}

export interface SystemCall {
  readonly t: number;
  readonly kind: 'namespaces' | 'functions' | 'token';
  readonly ns?: string;
}
