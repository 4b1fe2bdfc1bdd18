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
  /** Every delay requested, for assertions on timer behaviour. */
  readonly requested: number[] = [];

  constructor(start: number | string) {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.current;
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
  }
}
