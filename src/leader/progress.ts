/**
 * The leader's progress record (docs/adr/0007): one instant, "every slot at or before it has been
 * handed to the gateway or settled", kept in an annotation of the Lease. It moves only when all
 * the slots of an instant are handed, so it takes at most one value per distinct slot time.
 */
import type { SlotProgress } from '../invoker.ts';

export const HANDED_THROUGH_ANNOTATION = 'cron.openfaas.com/handed-through';

/** The record's instant from the Lease's annotations; undefined when absent or unreadable. */
export function readHandedThrough(annotations: Readonly<Record<string, string>>): number | undefined {
  const text = annotations[HANDED_THROUGH_ANNOTATION];
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export class HandOffTracker implements SlotProgress {
  /** Slots taken on and not yet handed, by nominal time (held ones included). */
  private readonly open = new Map<number, number>();
  private readonly firedThrough: () => number;
  /** The latest instant known to be settled, if nothing before it were still open. */
  private settled = Number.NEGATIVE_INFINITY;
  /** The record as last reported: it never moves back. */
  private reported = Number.NEGATIVE_INFINITY;

  /** `firedThrough`: every slot at or before it has been handed to the invoker (Scheduler.firedThrough). */
  constructor(firedThrough: () => number) {
    this.firedThrough = firedThrough;
  }

  /** Starts over from the previous leader's record (undefined: none). */
  reset(previous: number | undefined): void {
    this.open.clear();
    this.settled = previous ?? Number.NEGATIVE_INFINITY;
    this.reported = this.settled;
  }

  opened(nominal: number): void {
    this.open.set(nominal, (this.open.get(nominal) ?? 0) + 1);
  }

  handed(nominal: number): void {
    const left = (this.open.get(nominal) ?? 1) - 1;
    if (left > 0) this.open.set(nominal, left);
    else this.open.delete(nominal);
    if (nominal > this.settled) this.settled = nominal;
  }

  /** A slot opened and then given back unsent (it is opened again when it is fired). */
  cancel(nominal: number): void {
    const left = (this.open.get(nominal) ?? 1) - 1;
    if (left > 0) this.open.set(nominal, left);
    else this.open.delete(nominal);
  }

  /** Every slot up to `instant` is settled, apart from those still open (a take-over's catch-up). */
  settledThrough(instant: number): void {
    if (instant > this.settled) this.settled = instant;
  }

  /** The record's instant now (undefined: nothing settled yet). */
  handedThrough(): number | undefined {
    let through = Math.min(this.settled, this.firedThrough());
    for (const nominal of this.open.keys()) if (nominal - 1 < through) through = nominal - 1;
    if (through > this.reported) this.reported = through;
    return Number.isFinite(this.reported) ? this.reported : undefined;
  }
}
