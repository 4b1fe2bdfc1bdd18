/**
 * GET /schedules: every scheduled function with its next fire times and last result, and every
 * rejected function with the reason, a page at a time.
 *
 * Any pod that can reach the port can poll it, and the connector fires slots on the same event
 * loop, so building an answer must never hold the loop for long, nor near a slot, nor often:
 * - one answer is built at a time (others wait their turn; beyond a few waiting, 503), and the
 *   next starts no sooner than max(100 ms, 4 × the last one's time) after it: polling back to
 *   back costs at most a fifth of the event loop;
 * - an answer is a page (`limit`, default 100, at most 1000) after a cursor (`after`), filtered
 *   by `namespace` and `function`, built and serialized (one function per line) in slices of at
 *   most SLICE_MS, yielding to the event loop between slices;
 * - no slice runs within SLOT_GUARD_MS of the scheduler's next slot: the builder waits until the
 *   slot has fired;
 * - the first fire time of each schedule is the scheduler's own; only the two after it are
 *   computed, for the functions on the page;
 * - the sorted index of functions is built once per discovery result, not per request.
 */
import type { LeadershipStatus } from './leader/leadership.ts';
import type { LastRun } from './invoker.ts';
import { textReply, type Reply } from './http/server.ts';
import { entryKey } from './reconcile.ts';
import type { DesiredFunction } from './schedule/annotations.ts';
import type { DesiredState, Rejection } from './schedule/desired.ts';

export interface ScheduleStatus {
  readonly expression: string;
  /** Only when it is not the function's: a CRON_TZ= prefix's zone, or UTC for @every. */
  readonly timezone?: string;
  readonly next: readonly string[];
}

export interface FunctionStatusView {
  readonly function: string;
  readonly name: string;
  readonly namespace: string;
  readonly timezone: string;
  readonly async: boolean;
  readonly retries: number;
  readonly concurrency: string;
  readonly schedules: readonly ScheduleStatus[];
  readonly last: LastRun | null;
}

export interface RejectedView {
  readonly function: string;
  readonly namespace: string;
  readonly reason: string;
}

export interface SchedulesDocument {
  readonly generatedAt: string;
  /** With leader election: this replica's role, the holder and the progress record. */
  readonly leadership?: LeadershipStatus;
  /** Functions matching the filter, over all pages. */
  readonly total: { readonly scheduled: number; readonly rejected: number };
  /** This page's scheduled functions, by function id. */
  readonly scheduled: readonly FunctionStatusView[];
  /** This page's rejected functions, by function id. */
  readonly rejected: readonly RejectedView[];
  /** The path of the next page, or null on the last one. */
  readonly next: string | null;
}

export interface SchedulesQuery {
  readonly namespace?: string;
  /** A function's name, or its id `<name>.<namespace>`. */
  readonly function?: string;
  readonly limit: number;
  /** The id of the last function of the previous page. */
  readonly after?: string;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Longest stretch of work before the builder yields to the event loop. */
export const SLICE_MS = 1;
/** No work this close to the scheduler's next slot. */
export const SLOT_GUARD_MS = 10;
/** A slot this far past is not waited for. */
const STALE_SLOT_MS = 50;
/** Least time between the end of one answer and the start of the next; also at least 4 × its build time. */
export const MIN_SPACING_MS = 100;
/** Requests that may wait for their turn; more get 503. */
export const MAX_WAITING = 4;
/**
 * How long a request beyond MAX_WAITING is held before its 503: a client polling back to back is
 * slowed to one refusal a second instead of thousands (each costs the event loop too).
 */
export const BUSY_HOLD_MS = 1_000;
/** Requests held at once; beyond them the 503 is at once. */
export const MAX_HELD = 64;
const NEXT_COUNT = 3;

/** How long after an answer that took `buildMs` to build the next may start. */
export function spacingAfter(buildMs: number): number {
  return Math.max(MIN_SPACING_MS, 4 * buildMs);
}

/** The query of a /schedules request, or what is wrong with it. */
export function parseSchedulesQuery(params: URLSearchParams): SchedulesQuery | string {
  for (const key of params.keys()) {
    if (!['namespace', 'function', 'limit', 'after'].includes(key)) return `unknown parameter ${JSON.stringify(key)}: use namespace, function, limit or after`;
  }
  const limitText = params.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) return `limit must be a whole number from 1 to ${MAX_LIMIT}, found ${JSON.stringify(limitText)}`;
  const pick = (key: string): Record<string, string> => {
    const v = params.get(key);
    return v === null || v === '' ? {} : { [key]: v };
  };
  return { limit, ...pick('namespace'), ...pick('function'), ...pick('after') };
}

interface IndexEntry {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly fn?: DesiredFunction;
  readonly rejected?: Rejection;
}

interface Index {
  /** Scheduled and rejected functions, sorted by id (code unit order). */
  readonly entries: readonly IndexEntry[];
  readonly perNamespace: ReadonlyMap<string, { scheduled: number; rejected: number }>;
  readonly scheduled: number;
  readonly rejected: number;
}

const byId = (a: IndexEntry, b: IndexEntry): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Entries sorted a run at a time, then merged, calling `checkpoint` every few thousand moves. */
export async function sortInSlices(items: IndexEntry[], checkpoint: () => Promise<void>): Promise<IndexEntry[]> {
  const RUN = 512;
  const STEP = 4096;
  for (let lo = 0; lo < items.length; lo += RUN) {
    const run = items.slice(lo, lo + RUN).sort(byId);
    for (let i = 0; i < run.length; i++) items[lo + i] = run[i] as IndexEntry;
    await checkpoint();
  }
  let src = items;
  let dst = new Array<IndexEntry>(items.length);
  for (let width = RUN; width < items.length; width *= 2) {
    let moved = 0;
    for (let lo = 0; lo < items.length; lo += 2 * width) {
      const mid = Math.min(lo + width, items.length);
      const hi = Math.min(lo + 2 * width, items.length);
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k++) {
        dst[k] = (j >= hi || (i < mid && byId(src[i] as IndexEntry, src[j] as IndexEntry) <= 0) ? src[i++] : src[j++]) as IndexEntry;
        if (++moved % STEP === 0) await checkpoint();
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/** The first index whose id sorts after `after`. */
function startAfter(entries: readonly IndexEntry[], after: string | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as IndexEntry).id <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface SchedulesSource {
  /** What is scheduled and rejected now. */
  readonly state: () => DesiredState;
  /** The scheduler's next fire time of an entry. */
  readonly nextFire: (key: string) => number | undefined;
  /** The scheduler's earliest slot of all. */
  readonly nextDue: () => number | undefined;
  readonly lastRun: (id: string) => LastRun | undefined;
  /** Wall clock, for generatedAt. */
  readonly now: () => number;
  /** With leader election. */
  readonly leadership?: () => LeadershipStatus;
}

export interface SchedulesEndpointOptions {
  /** Monotonic milliseconds, for the slice budget (performance.now). */
  readonly elapsed?: () => number;
  /** Lets the event loop run (timers, I/O) before the next slice. */
  readonly yieldTurn?: () => Promise<void>;
  /** Waits `ms` on the connector's clock (a timer: the event loop is free meanwhile). */
  readonly wait: (ms: number) => Promise<void>;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SchedulesEndpoint {
  private readonly source: SchedulesSource;
  private readonly elapsed: () => number;
  private readonly yieldTurn: () => Promise<void>;
  private readonly wait: (ms: number) => Promise<void>;
  private cached: { readonly state: DesiredState; readonly index: Index } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private held = 0;
  /** When the next answer may start (elapsed() time). */
  private nextStart = Number.NEGATIVE_INFINITY;

  constructor(source: SchedulesSource, opts: SchedulesEndpointOptions) {
    this.source = source;
    this.elapsed = opts.elapsed ?? (() => performance.now());
    this.yieldTurn = opts.yieldTurn ?? nextTurn;
    this.wait = opts.wait;
  }

  /** The /schedules reply for `params`: 200 with a page, 400 for a bad query, 503 when busy. */
  answer(params: URLSearchParams): Promise<Reply> {
    const query = parseSchedulesQuery(params);
    if (typeof query === 'string') return Promise.resolve(textReply(400, query));
    if (this.waiting >= MAX_WAITING) return this.busy();
    this.waiting++;
    const turn = this.queue.then(() => this.spaced(() => this.render(query)));
    const done = turn.finally(() => this.waiting--);
    this.queue = done.catch(() => undefined);
    return done.then((body) => ({ status: 200, contentType: 'application/json', body }));
  }

  /** A 503, after BUSY_HOLD_MS while few are held. */
  private async busy(): Promise<Reply> {
    const reply = { ...textReply(503, `busy: ${this.waiting} requests for /schedules are waiting; try again in a second`), headers: { 'retry-after': '1' } };
    if (this.held >= MAX_HELD) return reply;
    this.held++;
    try {
      await this.wait(BUSY_HOLD_MS);
    } finally {
      this.held--;
    }
    return reply;
  }

  /** Runs `build` no sooner than the spacing after the last one allows, and sets the next spacing. */
  private async spaced<R>(build: () => Promise<R>): Promise<R> {
    const early = this.nextStart - this.elapsed();
    if (early > 0) await this.wait(early);
    const started = this.elapsed();
    try {
      return await build();
    } finally {
      const ended = this.elapsed();
      this.nextStart = ended + spacingAfter(ended - started);
    }
  }

  /** Waits until no slot is due within SLOT_GUARD_MS. */
  private async clearOfSlots(): Promise<void> {
    for (let due = this.source.nextDue(); due !== undefined; due = this.source.nextDue()) {
      const ahead = due - this.source.now();
      // a slot long past is not being fired (a pause, or a burst still going out): do not wait on it
      if (ahead > SLOT_GUARD_MS || ahead < -STALE_SLOT_MS) return;
      // past the slot (it fires on this turn or the next) or about to be: let it go first
      await this.wait(Math.max(ahead, 0) + 2);
    }
  }

  /** The page as JSON text, one function per line, serialized in the same slices as it is built. */
  async render(query: SchedulesQuery): Promise<string> {
    const scheduled: string[] = [];
    const rejected: string[] = [];
    const doc = await this.page(query, {
      scheduled: (view) => scheduled.push(JSON.stringify(view)),
      rejected: (view) => rejected.push(JSON.stringify(view)),
    });
    const list = (items: string[]): string => (items.length === 0 ? '[]' : `[\n    ${items.join(',\n    ')}\n  ]`);
    return [
      '{',
      `  "generatedAt": ${JSON.stringify(doc.generatedAt)},`,
      ...(doc.leadership === undefined ? [] : [`  "leadership": ${JSON.stringify(doc.leadership)},`]),
      `  "total": ${JSON.stringify(doc.total)},`,
      `  "scheduled": ${list(scheduled)},`,
      `  "rejected": ${list(rejected)},`,
      `  "next": ${JSON.stringify(doc.next)}`,
      '}\n',
    ].join('\n');
  }

  /**
   * Builds one page, yielding to the event loop every SLICE_MS and keeping clear of slots;
   * `serialize` is given each function of the page as it is built, within the same slice.
   */
  async page(
    query: SchedulesQuery,
    serialize?: { readonly scheduled: (view: FunctionStatusView) => void; readonly rejected: (view: RejectedView) => void },
  ): Promise<SchedulesDocument> {
    await this.clearOfSlots();
    const slice = { start: this.elapsed() };
    const checkpoint = async (): Promise<void> => {
      if (this.elapsed() - slice.start < SLICE_MS) return;
      await this.yieldTurn();
      await this.clearOfSlots();
      slice.start = this.elapsed();
    };
    const index = await this.index(checkpoint);
    const generatedAt = new Date(this.source.now()).toISOString();
    const matches = (e: IndexEntry): boolean =>
      (query.namespace === undefined || e.namespace === query.namespace) && (query.function === undefined || e.name === query.function || e.id === query.function);
    const scheduled: FunctionStatusView[] = [];
    const rejected: RejectedView[] = [];
    let total = this.knownTotal(index, query);
    const counting = total === undefined ? { scheduled: 0, rejected: 0 } : undefined;
    let lastId: string | undefined;
    let more = false;
    const entries = index.entries;
    const start = startAfter(entries, query.after);
    // totals over all pages need the matches before the page too
    for (let i = counting === undefined ? start : 0; i < entries.length; i++) {
      if (this.elapsed() - slice.start >= SLICE_MS) await checkpoint();
      const e = entries[i] as IndexEntry;
      if (!matches(e)) continue;
      if (i < start) {
        if (e.fn !== undefined) (counting as { scheduled: number }).scheduled++;
        else (counting as { rejected: number }).rejected++;
        continue;
      }
      if (scheduled.length + rejected.length >= query.limit) {
        more = true;
        if (counting === undefined) break;
      } else if (e.fn !== undefined) {
        const view = this.view(e.fn);
        scheduled.push(view);
        serialize?.scheduled(view);
        lastId = e.id;
      } else if (e.rejected !== undefined) {
        const view = { function: e.id, namespace: e.namespace, reason: e.rejected.reason };
        rejected.push(view);
        serialize?.rejected(view);
        lastId = e.id;
      }
      if (counting !== undefined) {
        if (e.fn !== undefined) counting.scheduled++;
        else counting.rejected++;
      }
    }
    total ??= counting;
    const leadership = this.source.leadership?.();
    return { generatedAt, ...(leadership === undefined ? {} : { leadership }), total: total ?? { scheduled: 0, rejected: 0 }, scheduled, rejected, next: more && lastId !== undefined ? nextPath(query, lastId) : null };
  }

  /** Totals that need no scan (no function filter); undefined when they do. */
  private knownTotal(index: Index, query: SchedulesQuery): { scheduled: number; rejected: number } | undefined {
    if (query.function !== undefined) return undefined;
    if (query.namespace === undefined) return { scheduled: index.scheduled, rejected: index.rejected };
    return index.perNamespace.get(query.namespace) ?? { scheduled: 0, rejected: 0 };
  }

  /** The sorted index of the current discovery result, built (in slices) once per result. */
  private async index(checkpoint: () => Promise<void>): Promise<Index> {
    const state = this.source.state();
    if (this.cached?.state === state) return this.cached.index;
    const entries: IndexEntry[] = [];
    const perNamespace = new Map<string, { scheduled: number; rejected: number }>();
    const count = (ns: string): { scheduled: number; rejected: number } => {
      let c = perNamespace.get(ns);
      if (c === undefined) perNamespace.set(ns, (c = { scheduled: 0, rejected: 0 }));
      return c;
    };
    for (const fn of state.functions.values()) {
      entries.push({ id: fn.id, namespace: fn.namespace, name: fn.name, fn });
      count(fn.namespace).scheduled++;
      if (entries.length % 1024 === 0) await checkpoint();
    }
    for (const r of state.rejected.values()) {
      entries.push({ id: r.id, namespace: r.namespace, name: r.id.slice(0, r.id.length - r.namespace.length - 1), rejected: r });
      count(r.namespace).rejected++;
    }
    const index = { entries: await sortInSlices(entries, checkpoint), perNamespace, scheduled: state.functions.size, rejected: state.rejected.size };
    this.cached = { state, index };
    return index;
  }

  private view(fn: DesiredFunction): FunctionStatusView {
    return {
      function: fn.id,
      name: fn.name,
      namespace: fn.namespace,
      timezone: fn.timezone,
      async: fn.async,
      retries: fn.retries,
      concurrency: fn.concurrency,
      schedules: fn.schedules.map((s) => ({
        expression: s.expression,
        ...(s.timezone === fn.timezone ? {} : { timezone: s.timezone }),
        next: nextTimes(this.source.nextFire(entryKey(fn, s)), s.next),
      })),
      last: this.source.lastRun(fn.id) ?? null,
    };
  }
}

function nextTimes(first: number | undefined, next: (after: number) => number | undefined): string[] {
  const out: string[] = [];
  for (let t = first; t !== undefined && out.length < NEXT_COUNT; t = next(t)) out.push(new Date(t).toISOString());
  return out;
}

function nextPath(query: SchedulesQuery, after: string): string {
  const params = new URLSearchParams();
  if (query.namespace !== undefined) params.set('namespace', query.namespace);
  if (query.function !== undefined) params.set('function', query.function);
  params.set('limit', String(query.limit));
  params.set('after', after);
  return `/schedules?${params.toString()}`;
}
