/**
 * Owns every timer: one min-heap of next fire times and a single timer for the earliest one.
 * - Never early: an entry fires only once clock.now() has reached its nominal time; a timer that
 *   wakes early just sleeps again.
 * - On the dot: the timer (1 ms resolution, often a millisecond or two late) is set to wake
 *   FINE_MS before the slot; the last stretch is covered by event-loop turns, so the slot fires
 *   within the millisecond it is due.
 * - Sleeps at most MAX_SLEEP_MS at a time, so wall-clock steps (NTP, suspend) are noticed.
 * - Missed slots (the process was paused or suspended past several slots) are coalesced: the
 *   latest one fires once and the number skipped is reported (docs/adr/0001).
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { CompiledSchedule } from './cron.ts';
import { MinHeap } from './heap.ts';

export interface FireEvent<T> {
  readonly key: string;
  readonly payload: T;
  readonly schedule: CompiledSchedule;
  /** The nominal fire time, ms since the epoch. */
  readonly nominal: number;
  /** Slots skipped because they were already past (0 in normal operation). */
  readonly missed: number;
  /** When `missed` > 0: the first of the missed slots (the catch-up policy decides which run). */
  readonly missedFrom?: number;
  /**
   * The slot after this one is `schedule.next(after)`, if any: retries of this slot must end
   * before it. A time rather than the slot itself, so the slot is handed over before that is
   * computed (a croner computation, up to a millisecond on cold code, would otherwise delay every
   * single-function slot), and rather than a closure, so a burst allocates none per function.
   */
  readonly after: number;
}

export interface SchedulerOptions<T> {
  readonly clock: Clock;
  readonly onFire: (event: FireEvent<T>) => void;
  readonly onError?: (err: unknown, key: string) => void;
  readonly maxSleepMs?: number;
  /**
   * Called once per upcoming slot, `leadMs` before it (or at once when it is nearer), so the
   * caller can get ready, e.g. open a connection; it must be cheap and must not throw.
   */
  readonly prepare?: {
    readonly leadMs: number;
    /** Entries due at the slot are counted up to this many (0: not counted). */
    readonly countUpTo?: number;
    /** `due`: how many entries fall due at `at`, at most countUpTo. */
    readonly run: (at: number, due: number) => void;
  };
}

interface Entry<T> {
  readonly key: string;
  readonly schedule: CompiledSchedule;
  readonly seq: number;
  payload: T;
  next: number;
  active: boolean;
  /** False between firing and rescheduling (the entry is then in `deferred`, not in the heap). */
  inHeap: boolean;
}

export const MAX_SLEEP_MS = 30_000;
/** How long before a slot the coarse timer hands over to event-loop turns. */
export const FINE_MS = 3;
/** Bound on slots counted when catching up after a long pause. */
const MAX_CATCH_UP = 1000;
/**
 * Due entries fired per event-loop turn: a slot shared by 10,000 functions is handed over in
 * batches, so the first requests are written while the rest are still being fired.
 */
export const FIRE_BATCH = 256;

export class Scheduler<T> {
  private readonly opts: SchedulerOptions<T>;
  private readonly entries = new Map<string, Entry<T>>();
  private readonly heap = new MinHeap<Entry<T>>((a, b) => a.next < b.next || (a.next === b.next && a.seq < b.seq));
  private timer: TimerHandle | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private preparedFor = Number.NEGATIVE_INFINITY;
  /** Entries fired this turn, back into the heap on the next one (with the instant to compute from). */
  private deferred: Array<{ readonly entry: Entry<T>; readonly after: number }> = [];
  private seq = 0;
  private stale = 0;
  private running = false;

  constructor(opts: SchedulerOptions<T>) {
    this.opts = opts;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  nextFire(key: string): number | undefined {
    return this.entries.get(key)?.next;
  }

  /**
   * Every slot at or before the returned time has been handed to onFire (entries are fired in
   * batches, so a slot shared by thousands is not all fired at once).
   */
  firedThrough(now: number): number {
    const top = this.running ? this.dropStaleTop() : undefined;
    return top === undefined ? now : Math.min(now, top.next - 1);
  }

  /** The earliest slot of any entry while running, if any (entries fired this turn are back in the heap on the next). */
  nextDue(): number | undefined {
    return this.running ? this.dropStaleTop()?.next : undefined;
  }

  /** Schedules `key`; returns its first fire time (strictly after now), or undefined if none. */
  add(key: string, schedule: CompiledSchedule, payload: T): number | undefined {
    this.remove(key);
    const next = schedule.next(this.opts.clock.now());
    if (next === undefined) return undefined;
    const entry: Entry<T> = { key, schedule, payload, next, seq: this.seq++, active: true, inHeap: true };
    this.entries.set(key, entry);
    this.heap.push(entry);
    if (this.running && next < this.armedFor) this.arm();
    return next;
  }

  update(key: string, payload: T): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) entry.payload = payload;
  }

  remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    entry.active = false;
    this.entries.delete(key);
    if (!entry.inHeap) return true;
    this.stale++;
    if (this.stale > 1024 && this.stale > this.entries.size) this.compact();
    return true;
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private compact(): void {
    this.heap.filter((e) => e.active);
    this.stale = 0;
  }

  private dropStaleTop(): Entry<T> | undefined {
    let top = this.heap.peek();
    while (top !== undefined && !top.active) {
      this.heap.pop();
      this.stale--;
      top = this.heap.peek();
    }
    return top;
  }

  private arm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (!this.running) return;
    if (this.deferred.length > 0) {
      // entries just fired go back into the heap on the next turn (see tick)
      this.armedFor = Number.NEGATIVE_INFINITY;
      this.timer = this.opts.clock.soon(() => this.tick());
      return;
    }
    const top = this.dropStaleTop();
    if (top === undefined) return;
    const now = this.opts.clock.now();
    const wait = top.next - now;
    this.armedFor = top.next;
    if (wait <= FINE_MS) {
      this.timer = this.opts.clock.soon(() => this.tick());
      return;
    }
    let wake = wait - FINE_MS;
    const prepare = this.opts.prepare;
    if (prepare !== undefined && this.preparedFor < top.next) {
      if (wait <= prepare.leadMs) {
        this.preparedFor = top.next;
        const at = top.next;
        prepare.run(at, this.heap.countTop((e) => e.next === at, (e) => e.active, prepare.countUpTo ?? 0));
      } else wake = wait - prepare.leadMs;
    }
    const coarse = Math.min(wake, this.opts.maxSleepMs ?? MAX_SLEEP_MS);
    this.timer = this.opts.clock.setTimer(() => this.tick(), Math.floor(coarse));
  }

  /**
   * Fires what is due (one batch), and puts what it fired back into the heap on the next turn:
   * their next times are computed after the requests they started have been written, not
   * before (a croner computation can take a millisecond on cold code).
   */
  private tick(): void {
    this.timer = undefined;
    this.reschedule();
    const now = this.opts.clock.now();
    let fired = 0;
    for (let top = this.dropStaleTop(); top !== undefined && top.next <= now && fired < FIRE_BATCH; top = this.dropStaleTop()) {
      this.heap.pop();
      top.inHeap = false;
      this.fire(top, now);
      fired++;
    }
    this.arm();
  }

  private reschedule(): void {
    const deferred = this.deferred;
    if (deferred.length === 0) return;
    this.deferred = [];
    for (const { entry, after } of deferred) {
      if (!entry.active) continue;
      const next = entry.schedule.next(after);
      if (next === undefined) {
        entry.active = false;
        this.entries.delete(entry.key);
        continue;
      }
      entry.next = next;
      entry.inHeap = true;
      this.heap.push(entry);
    }
  }

  private fire(entry: Entry<T>, now: number): void {
    const { schedule } = entry;
    const first = entry.next;
    let nominal = first;
    let missed = 0;
    // Slots are whole seconds: within a second of the slot no later one can be due, and the next
    // one is computed after the slot is handed over. Later than that, catch up first.
    if (now >= nominal + 1000) {
      for (let next = schedule.next(nominal); next !== undefined && next <= now && missed < MAX_CATCH_UP; next = schedule.next(nominal)) {
        nominal = next;
        missed++;
      }
    }
    const after = Math.max(nominal, now);
    try {
      const event: FireEvent<T> = { key: entry.key, payload: entry.payload, schedule, nominal, missed, after };
      this.opts.onFire(missed > 0 ? { ...event, missedFrom: first } : event);
    } catch (err) {
      this.opts.onError?.(err, entry.key);
    }
    this.deferred.push({ entry, after });
  }
}
