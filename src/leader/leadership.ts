/**
 * Leader election wired to the scheduler and the invoker (docs/adr/0007):
 * - every replica schedules (so /schedules and doctor work everywhere), only the leader invokes;
 * - a new leader reads the previous leader's progress record, runs the missed slots since then
 *   by each function's catch-up policy, and from then on never fires a slot at or before it;
 * - the record follows the slots handed to the gateway and is written with the renewals.
 */
import type { Clock } from '../clock.ts';
import type { Invoker, SlotProgress } from '../invoker.ts';
import type { Logger } from '../log.ts';
import type { LeaderMetrics } from '../metrics.ts';
import type { DesiredFunction } from '../schedule/annotations.ts';
import type { FireEvent } from '../schedule/scheduler.ts';
import { LeaderElector, type Role } from './elector.ts';
import type { Lease, LeaseStore } from './lease.ts';
import { HANDED_THROUGH_ANNOTATION, HandOffTracker, readHandedThrough } from './progress.ts';

export interface LeaderElectionSettings {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface LeadershipOptions {
  readonly store: LeaseStore;
  readonly settings: LeaderElectionSettings;
  readonly clock: Clock;
  readonly monotonic: () => number;
  readonly logger: Logger;
  readonly metrics: LeaderMetrics;
  /** Every slot at or before the returned time has been fired by the scheduler. */
  readonly firedThrough: (now: number) => number;
  /** The functions scheduled now. */
  readonly functions: () => ReadonlyMap<string, DesiredFunction>;
  readonly random?: () => number;
}

export interface LeadershipStatus {
  readonly role: Role;
  readonly identity: string;
  readonly lease: string;
  readonly holder: string | undefined;
  /** The progress record as last seen (the leader's own, or the leader's as read by a standby). */
  readonly handedThrough: string | undefined;
}

/**
 * A record write pending longer than this (or failed) holds further slots: they wait for the
 * record rather than go out unrecorded, so an API-server outage leaves at most the slots sent
 * before it was noticed in doubt (docs/adr/0007).
 */
export const RECORD_STALL_MS = 1_000;

export class Leadership implements SlotProgress {
  private readonly opts: LeadershipOptions;
  private readonly tracker: HandOffTracker;
  private readonly elector: LeaderElector;
  private invoker: Pick<Invoker, 'fire' | 'catchUp'> | undefined;
  /** Slots at or before this were handed over by a previous leader or this one's catch-up. */
  private floor = Number.NEGATIVE_INFINITY;
  /** From taking the Lease until losing it: the record is this replica's to write. */
  private recording = false;
  /** False once shutting down: no slot is fired any more, the record is still written. */
  private firing = true;
  private kickPending = false;
  private written = Number.NEGATIVE_INFINITY;
  /** When the write in flight started (monotonic), if one is. */
  private writeStartedAt: number | undefined;
  private lastWriteOk = true;
  /** Slots held while the record cannot be written, in firing order. */
  private held: Array<FireEvent<DesiredFunction>> = [];

  constructor(opts: LeadershipOptions) {
    this.opts = opts;
    this.tracker = new HandOffTracker(() => opts.firedThrough(opts.clock.now()));
    this.elector = new LeaderElector({
      store: opts.store,
      identity: opts.settings.identity,
      leaseDurationMs: opts.settings.leaseDurationMs,
      renewDeadlineMs: opts.settings.renewDeadlineMs,
      retryPeriodMs: opts.settings.retryPeriodMs,
      clock: opts.clock,
      monotonic: opts.monotonic,
      logger: opts.logger,
      ...(opts.random === undefined ? {} : { random: opts.random }),
      record: () => this.record(),
      onStartedLeading: (lease, resumed) => this.startedLeading(lease, resumed),
      onStoppedLeading: () => this.stoppedLeading(),
      onWriteStart: () => {
        this.writeStartedAt = opts.monotonic();
      },
      onWrite: (ok) => {
        this.writeStartedAt = undefined;
        this.lastWriteOk = ok;
        opts.metrics.leaseWrite(ok);
        if (ok) this.releaseHeld();
      },
      onRenewFailure: () => opts.metrics.renewalFailure(),
    });
  }

  /** The invoker that runs the slots (it reports back through this object's SlotProgress). */
  attach(invoker: Pick<Invoker, 'fire' | 'catchUp'>): void {
    this.invoker = invoker;
  }

  /** Starts campaigning (once this replica can invoke: credentials and a first discovery pass). */
  start(): void {
    this.elector.start();
  }

  /** True while this replica leads and may invoke. */
  get leading(): boolean {
    return this.firing && this.recording && this.elector.canLead();
  }

  status(): LeadershipStatus {
    const lease = this.elector.observed;
    const through = this.recording ? this.tracker.handedThrough() : lease === undefined ? undefined : readHandedThrough(lease.annotations);
    return {
      role: this.elector.role,
      identity: this.opts.settings.identity,
      lease: this.opts.store.ref,
      holder: this.elector.holder ?? (lease?.spec.holderIdentity || undefined),
      handedThrough: through === undefined ? undefined : new Date(through).toISOString(),
    };
  }

  /** The scheduler's onFire: only the leader invokes, and never a slot already handed over. */
  fire(event: FireEvent<DesiredFunction>): void {
    if (!this.leading || this.invoker === undefined) return;
    if (event.nominal <= this.floor) return;
    const clipped = event.missedFrom !== undefined && event.missedFrom <= this.floor ? { ...event, missedFrom: Math.floor(this.floor) + 1 } : event;
    if (!this.recordHealthy() || this.held.length > 0) {
      this.tracker.opened(clipped.nominal);
      this.held.push(clipped);
      return;
    }
    this.invoker.fire(clipped);
  }

  /** True unless the last write of the record failed or has been pending for RECORD_STALL_MS. */
  private recordHealthy(): boolean {
    if (!this.lastWriteOk) return false;
    return this.writeStartedAt === undefined || this.opts.monotonic() - this.writeStartedAt < RECORD_STALL_MS;
  }

  /** Fires the held slots (late), once the record could be written again. */
  private releaseHeld(): void {
    if (this.held.length === 0 || !this.leading || this.invoker === undefined) return;
    const held = this.held;
    this.held = [];
    for (const event of held) {
      this.tracker.cancel(event.nominal);
      this.invoker.fire(event);
    }
  }

  /** SlotProgress: a slot waiting for its jitter offset or a connection goes out only while leading. */
  mayStart(): boolean {
    return this.leading;
  }

  /** Stops firing; the Lease is still renewed (with the record) until stop(). */
  stopFiring(): void {
    this.firing = false;
  }

  /** Releases the Lease with the final record (call after the calls in flight are done). */
  async stop(timeoutMs: number): Promise<void> {
    this.firing = false;
    await this.elector.stop(timeoutMs);
  }

  opened(nominal: number): void {
    this.tracker.opened(nominal);
  }

  handed(nominal: number): void {
    this.tracker.handed(nominal);
    if (this.kickPending || !this.recording) return;
    // once per event-loop turn: a slot shared by thousands asks for one write, not thousands
    this.kickPending = true;
    this.opts.clock.soon(() => {
      this.kickPending = false;
      const through = this.tracker.handedThrough();
      if (through !== undefined && through > this.written) this.elector.requestWrite();
    });
  }

  private record(): Readonly<Record<string, string>> {
    if (!this.recording) return {};
    const through = this.tracker.handedThrough();
    if (through === undefined) return {};
    this.written = through;
    return { [HANDED_THROUGH_ANNOTATION]: new Date(through).toISOString() };
  }

  private startedLeading(previous: Lease, resumed: boolean): void {
    let handed = readHandedThrough(previous.annotations);
    if (resumed) {
      // nobody led since this process's last write: what it knows it handed over is exact, and
      // newer than the record when the last writes failed (an API-server outage)
      const mine = this.tracker.handedThrough();
      if (mine !== undefined && (handed === undefined || mine > handed)) handed = mine;
    }
    this.held = [];
    this.lastWriteOk = true;
    const now = this.opts.clock.now();
    this.tracker.reset(handed);
    this.written = handed ?? Number.NEGATIVE_INFINITY;
    this.floor = handed ?? Number.NEGATIVE_INFINITY;
    this.recording = true;
    if (handed !== undefined && this.firing && this.invoker !== undefined) {
      // the slots no replica handed over since the previous leader's record, by each function's policy
      const invoker = this.invoker;
      for (const fn of this.opts.functions().values()) {
        for (const schedule of fn.schedules) invoker.catchUp(fn, schedule, Math.floor(handed) + 1, now);
      }
    }
    this.floor = Math.max(this.floor, now);
    this.tracker.settledThrough(now);
    this.opts.metrics.leader(true);
    this.elector.requestWrite();
  }

  private stoppedLeading(): void {
    this.recording = false;
    this.opts.metrics.leader(false);
  }
}
