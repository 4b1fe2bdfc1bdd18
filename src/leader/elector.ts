/**
 * Leader election on a Kubernetes Lease, after client-go's leaderelection package and its safety
 * argument (docs/adr/0007):
 * - a candidate takes the Lease only when it holds no holder, or this replica's own, or when it
 *   has seen no change of the Lease record for lease_duration on its own monotonic clock;
 * - every write is an optimistic update on resourceVersion: a 409 means someone else wrote, so
 *   the Lease is read again, never overwritten;
 * - the leader renews every retry_period; it may invoke only until renew_deadline after the start
 *   of its last successful write (`canLead()`), which is earlier than any other replica can take
 *   the Lease (lease_duration after it saw that write), so no two replicas lead at once;
 * - writes of the leader's progress record (`requestWrite`) are renewals too: one writer, one
 *   request in flight, on one object;
 * - `stop()` releases the Lease (clears the holder) so a standby takes over within retry_period.
 */
import type { Clock } from '../clock.ts';
import { describeError, KubeApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { microTime, type Lease, type LeaseSpec, type LeaseStore, type LeaseWrite } from './lease.ts';

export interface ElectorOptions {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** Wall clock (the times written into the Lease) and timers. */
  readonly clock: Clock;
  /** Monotonic milliseconds (performance.now): every duration the safety argument relies on. */
  readonly monotonic: () => number;
  readonly logger: Logger;
  readonly random?: () => number;
  /** The annotations the next write carries (the leader's progress record). */
  readonly record: () => Readonly<Record<string, string>>;
  /**
   * This replica became the leader; `lease` is the Lease as it took it (with the previous
   * leader's record); `resumed`: this process wrote that Lease last (nobody led in between).
   */
  readonly onStartedLeading: (lease: Lease, resumed: boolean) => void;
  /** This replica stopped leading (it must not invoke from now on). */
  readonly onStoppedLeading: (reason: string) => void;
  /** A write of the Lease starts. */
  readonly onWriteStart?: () => void;
  /** Every write, and whether it succeeded. */
  readonly onWrite?: (ok: boolean) => void;
  /** A failed renewal attempt while leading (for the metrics). */
  readonly onRenewFailure?: () => void;
  /** The Lease record as last seen (for /schedules and the logs). */
  readonly onObserved?: (lease: Lease | undefined) => void;
}

/** client-go's JitterFactor: a standby waits retry_period to 1.2 × retry_period between attempts. */
const JITTER = 0.2;

export type Role = 'leader' | 'standby' | 'stopped';

export class LeaderElector {
  private readonly opts: ElectorOptions;
  private readonly random: () => number;
  private readonly abort = new AbortController();
  private running = false;
  private leading = false;
  /** Monotonic time until which this replica may lead (start of the last successful write + renew_deadline). */
  private validUntil = Number.NEGATIVE_INFINITY;
  private lease: Lease | undefined;
  /** The record as last seen and when it changed, on the monotonic clock. */
  private observedKey = '';
  private observedAt = Number.NEGATIVE_INFINITY;
  private knownHolder: string | undefined;
  private wake: (() => void) | undefined;
  private writeWanted = false;
  private loop: Promise<void> | undefined;
  private deadlineTimer: { cancel(): void } | undefined;
  private lastFailure = '';
  /** resourceVersion of this process's last successful write. */
  private lastWritten: string | undefined;

  constructor(opts: ElectorOptions) {
    this.opts = opts;
    this.random = opts.random ?? Math.random;
  }

  get role(): Role {
    if (!this.running) return 'stopped';
    return this.canLead() ? 'leader' : 'standby';
  }

  /** The holder as last seen (undefined: none, or not read yet). */
  get holder(): string | undefined {
    return this.knownHolder;
  }

  get observed(): Lease | undefined {
    return this.lease;
  }

  /** True while this replica leads and its last renewal is recent enough to act on. */
  canLead(): boolean {
    return this.leading && this.opts.monotonic() < this.validUntil;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Asks for a write of the record soon (the leader's progress moved). */
  requestWrite(): void {
    if (!this.leading) return;
    this.writeWanted = true;
    this.wake?.();
  }

  /**
   * Stops the loop; a leader releases the Lease (one attempt, bounded by `timeoutMs`) with its
   * final record. Until then a leader keeps renewing: call this once the calls in flight are done.
   */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // a request in flight is abandoned (the release below reads nothing and needs no answer to it)
    this.abort.abort();
    this.wake?.();
    await this.loop;
    this.deadlineTimer?.cancel();
    if (!this.leading) return;
    this.leading = false;
    this.validUntil = Number.NEGATIVE_INFINITY;
    await this.release(timeoutMs);
    this.opts.onStoppedLeading('released');
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = this.opts.monotonic();
      await this.attempt();
      if (!this.running) break;
      if (this.leading && this.writeWanted) continue;
      const period = this.opts.retryPeriodMs;
      const wait = this.leading ? period : period * (1 + JITTER * this.random());
      await this.sleep(Math.max(0, wait - (this.opts.monotonic() - started)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.opts.clock.setTimer(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        timer.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** One tryAcquireOrRenew: as the leader a renewal (with the record), else a read and maybe a take-over. */
  private async attempt(): Promise<void> {
    const start = this.opts.monotonic();
    try {
      if (this.leading && this.lease !== undefined) {
        await this.renew(this.lease, start);
        return;
      }
      const lease = await this.opts.store.get(this.signal());
      if (!this.running) return;
      if (lease === undefined) {
        await this.create(start);
        return;
      }
      this.observe(lease);
      const holder = lease.spec.holderIdentity ?? '';
      // Our identity on a record this process did not write is another process's (a restart, or
      // two processes on one host): it is waited out like any other holder.
      const ours = holder === this.opts.identity && lease.resourceVersion === this.lastWritten;
      if (holder !== '' && !ours && !this.expired(lease)) {
        this.follow(holder);
        return;
      }
      await this.take(lease, start);
    } catch (err) {
      this.failed(err);
    }
  }

  private signal(): AbortSignal {
    return this.abort.signal;
  }

  private expired(lease: Lease): boolean {
    // the longer of ours and the holder's: during an upgrade that changes lease_duration
    const durationMs = Math.max(this.opts.leaseDurationMs, (lease.spec.leaseDurationSeconds ?? 0) * 1000);
    return this.opts.monotonic() >= this.observedAt + durationMs;
  }

  private observe(lease: Lease | undefined): void {
    this.lease = lease;
    const s = lease?.spec;
    const key = s === undefined ? '' : [s.holderIdentity ?? '', s.renewTime ?? '', s.acquireTime ?? '', s.leaseDurationSeconds ?? '', s.leaseTransitions ?? ''].join('|');
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = this.opts.monotonic();
    }
    this.opts.onObserved?.(lease);
  }

  private follow(holder: string): void {
    if (holder === this.knownHolder) return;
    this.knownHolder = holder;
    this.opts.logger.info({ leader: holder, lease: this.opts.store.ref }, 'Following leader');
  }

  private write(spec: LeaseSpec): LeaseWrite {
    return { spec, annotations: { ...(this.lease?.annotations ?? {}), ...this.opts.record() } };
  }

  private spec(previous: LeaseSpec | undefined, now: number): LeaseSpec {
    const mine = previous?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      acquireTime: mine && previous.acquireTime !== undefined ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (mine || previous?.holderIdentity === undefined ? 0 : 1),
    };
  }

  private async create(start: number): Promise<void> {
    const lease = await this.recorded(this.opts.store.create({ spec: this.spec(undefined, this.opts.clock.now()), annotations: this.opts.record() }, this.signal()));
    this.observe(lease);
    this.becomeLeader(lease, start, false);
  }

  private async take(previous: Lease, start: number): Promise<void> {
    const resumed = previous.resourceVersion === this.lastWritten;
    const lease = await this.recorded(this.opts.store.replace(previous.resourceVersion, this.write(this.spec(previous.spec, this.opts.clock.now())), this.signal()));
    this.observe(lease);
    this.becomeLeader(previous, start, resumed, lease);
  }

  private async renew(current: Lease, start: number): Promise<void> {
    this.writeWanted = false;
    try {
      const lease = await this.recorded(this.opts.store.replace(current.resourceVersion, this.write(this.spec(current.spec, this.opts.clock.now())), this.signal()));
      this.observe(lease);
      if (!this.leading) return;
      this.extend(start);
      this.lastFailure = '';
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) {
        // someone wrote the Lease: read it again; still ours (our own write whose answer was lost) or taken
        const lease = await this.opts.store.get(this.signal());
        this.observe(lease);
        const holder = lease?.spec.holderIdentity;
        if (holder !== this.opts.identity) {
          this.stepDown(holder === undefined || holder === '' ? 'the Lease was released or deleted' : `the Lease was taken by ${holder}`);
          if (holder !== undefined && holder !== '') this.follow(holder);
        } else this.writeWanted = true;
        return;
      }
      throw err;
    }
  }

  private async recorded(write: Promise<Lease>): Promise<Lease> {
    this.opts.onWriteStart?.();
    try {
      const lease = await write;
      this.lastWritten = lease.resourceVersion;
      this.opts.onWrite?.(true);
      return lease;
    } catch (err) {
      this.opts.onWrite?.(false);
      throw err;
    }
  }

  private becomeLeader(previous: Lease, start: number, resumed: boolean, taken?: Lease): void {
    this.leading = true;
    this.knownHolder = this.opts.identity;
    this.extend(start);
    this.lastFailure = '';
    const lease = taken ?? previous;
    this.opts.logger.info(
      { identity: this.opts.identity, lease: this.opts.store.ref, previous: previous === lease ? undefined : previous.spec.holderIdentity || undefined, transitions: lease.spec.leaseTransitions ?? 0 },
      'Leadership acquired',
    );
    this.opts.onStartedLeading(previous, resumed);
  }

  /** A successful write started at `start`: leading is safe until start + renew_deadline. */
  private extend(start: number): void {
    this.validUntil = start + this.opts.renewDeadlineMs;
    this.deadlineTimer?.cancel();
    const check = (): void => {
      if (!this.leading) return;
      const left = this.validUntil - this.opts.monotonic();
      if (left > 0) {
        this.deadlineTimer = this.opts.clock.setTimer(check, Math.ceil(left));
        return;
      }
      this.stepDown(`no renewal of the Lease succeeded for renew_deadline (${this.opts.renewDeadlineMs} ms)${this.lastFailure === '' ? '' : `: ${this.lastFailure}`}`);
    };
    this.deadlineTimer = this.opts.clock.setTimer(check, Math.ceil(this.validUntil - this.opts.monotonic()));
  }

  private stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.validUntil = Number.NEGATIVE_INFINITY;
    this.deadlineTimer?.cancel();
    this.knownHolder = undefined;
    this.opts.logger.warn({ identity: this.opts.identity, lease: this.opts.store.ref, reason }, 'Leadership lost');
    this.opts.onStoppedLeading(reason);
  }

  private failed(err: unknown): void {
    if (!this.leading && err instanceof KubeApiError && err.status === 409) {
      // two standbys went for the same free Lease: the other one wrote first, and is read next time
      this.opts.logger.debug({ lease: this.opts.store.ref }, 'Lease taken by another replica first');
      return;
    }
    const text = describeError(err);
    const hint = err instanceof KubeApiError ? err.hint : undefined;
    const changed = text !== this.lastFailure;
    this.lastFailure = text;
    const fields = { lease: this.opts.store.ref, error: text, hint };
    if (this.leading) this.opts.onRenewFailure?.();
    if (this.leading) this.opts.logger.warn({ ...fields, leadingFor: `${Math.max(0, Math.round(this.validUntil - this.opts.monotonic()))}ms` }, 'Lease renewal failed');
    else if (changed) this.opts.logger.warn(fields, 'Lease check failed');
    else this.opts.logger.debug(fields, 'Lease check failed');
  }

  /** Clears the holder (with the final record), so a standby need not wait for lease_duration. */
  private async release(timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
    let current = this.lease;
    try {
      // twice at most: a renewal cut short by stop() may have been stored all the same, which
      // leaves this replica holding a newer version than it knows
      for (let attempt = 1; current !== undefined && current.spec.holderIdentity === this.opts.identity; attempt++) {
        const now = this.opts.clock.now();
        const spec: LeaseSpec = { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) };
        try {
          await this.recorded(this.opts.store.replace(current.resourceVersion, this.write(spec), signal));
          this.opts.logger.info({ lease: this.opts.store.ref }, 'Lease released');
          return;
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 409) || attempt === 2) throw err;
          current = await this.opts.store.get(signal);
        }
      }
    } catch (err) {
      this.opts.logger.warn({ lease: this.opts.store.ref, error: describeError(err), hint: err instanceof KubeApiError ? err.hint : undefined }, 'Lease not released: a standby takes over once it expires');
    }
  }
}
