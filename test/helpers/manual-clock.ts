import type { Clock, TimerHandle } from '../../src/clock.ts';

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock tests move by hand. `advance` runs due timers in time order, moving `now` to each
 * timer's due time first, exactly as a real event loop would (never earlier).
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];
  /** Wall-clock jumps so far: the monotonic clock does not see them. */
  private jumped = 0;
  /** Every delay requested, for assertions on timer behaviour. */
  readonly requested: number[] = [];

  constructor(start: number | string) {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.current;
  }

  /** Monotonic milliseconds (performance.now's role): moves with advance(), not with jump(). */
  monotonic(): number {
    return this.current - this.jumped;
  }

  /** When the earliest pending timer falls due, if any. */
  nextDue(): number | undefined {
    let at: number | undefined;
    for (const t of this.timers) if (!t.cancelled && (at === undefined || t.at < at)) at = t.at;
    return at;
  }

  /**
   * advance() for asynchronous code: fires due timers one instant at a time, letting the promise
   * chains they start run to their end before the next instant.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.current + ms;
    await new Promise((resolve) => setImmediate(resolve));
    for (let due = this.nextDue(); due !== undefined && due <= target; due = this.nextDue()) {
      this.advanceTo(due);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.advanceTo(target);
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    this.requested.push(ms);
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /**
   * The next turn of the event loop, modelled as the next whole millisecond (what Date.now()
   * shows a busy-waiting loop), so a busy-wait sees time pass.
   */
  soon(fn: () => void): TimerHandle {
    const timer: PendingTimer = { at: Math.floor(this.current) + 1, seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = Math.max(this.current, target);
  }

  /** Jumps the wall clock without firing timers (NTP step, suspend). */
  jump(ms: number): void {
    this.current += ms;
    this.jumped += ms;
  }
}
