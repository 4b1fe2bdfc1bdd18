/**
 * robfig/cron v3 field semantics, for the drop-in promise: every expression the Go connector
 * accepts (cron.ParseStandard, and its seconds parser for 6 fields) fires here at the same times.
 * Pure.
 *
 * robfigToCroner() reads each field as robfig's parser does and, when robfig accepts every
 * field, rewrites it into plain croner syntax that selects the same values: numbers for names,
 * `N-max/step` for robfig's `N/step`, steps larger than the field clamped to its size (croner
 * rejects them), empty list entries dropped, `+N` read as N, and a field holding a `*` or `?`
 * item without a step above 1 written as `*`. That last rule carries robfig's "star bit": a
 * day-of-month or day-of-week written `*` or `?` (also `*\/1`, `*,5` or `*-5`) leaves the other
 * day field alone (AND); otherwise the two combine with OR, `*\/2` included. croner decides the
 * same from whether the field is literally `*`, so the rewrite makes both agree.
 *
 * When robfig rejects a field (croner extensions such as `L`, `W`, `#`, weekday 7, `+MON`), the
 * expression goes to croner as written and croner's own rules apply.
 */

interface Bounds {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTH_NAMES: Readonly<Record<string, number>> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};
const DAY_NAMES: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const SECOND: Bounds = { name: 'second', min: 0, max: 59 };
const MINUTE: Bounds = { name: 'minute', min: 0, max: 59 };
const HOUR: Bounds = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: Bounds = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: Bounds = { name: 'month', min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: Bounds = { name: 'day-of-week', min: 0, max: 6, names: DAY_NAMES };

const FIVE: readonly Bounds[] = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK];
const SIX: readonly Bounds[] = [SECOND, ...FIVE];

const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.Atoi as robfig uses it: optional sign, decimal digits, 64-bit; negatives refused. */
function atoi(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text);
  if (value > INT64_MAX || value < -INT64_MAX - 1n) return undefined;
  if (value < 0n) return undefined;
  // beyond every field's maximum: the exact size no longer matters, only that it is large
  return value > 1_000_000n ? 1_000_001 : Number(value);
}

/** A name (case-insensitive, as Go's strings.ToLower; İ lowers to i there) or a number. */
function intOrName(text: string, names: Bounds['names']): number | undefined {
  if (names !== undefined) {
    const named = names[text.replace(/\u0130/g, 'i').toLowerCase()];
    if (named !== undefined) return named;
  }
  return atoi(text);
}

interface Item {
  /** The item in croner syntax. */
  readonly text: string;
  /** robfig's star bit: `*` or `?` without a step above 1. */
  readonly star: boolean;
}

/** One comma-separated item as robfig's getRange reads it, or undefined when robfig rejects it. */
function robfigItem(item: string, b: Bounds): Item | undefined {
  const rangeAndStep = item.split('/');
  if (rangeAndStep.length > 2) return undefined;
  const lowAndHigh = (rangeAndStep[0] as string).split('-');
  let start: number | undefined;
  let end: number | undefined;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    // robfig ignores whatever follows a star's hyphen: "*-5" is "*"
    start = b.min;
    end = b.max;
    star = true;
  } else {
    if (lowAndHigh.length > 2) return undefined;
    start = intOrName(lowAndHigh[0] as string, b.names);
    end = lowAndHigh.length === 2 ? intOrName(lowAndHigh[1] as string, b.names) : start;
  }
  if (start === undefined || end === undefined) return undefined;
  let step: number | undefined;
  if (rangeAndStep.length === 2) {
    step = atoi(rangeAndStep[1] as string);
    if (step === undefined) return undefined;
    // "N/step" means "N-max/step"
    if (lowAndHigh.length === 1) end = b.max;
    if (step > 1) star = false;
  }
  if (start < b.min || end > b.max || start > end || step === 0) return undefined;
  if (star) return { text: '*', star };
  if (step !== undefined) {
    // a step larger than the field selects only its start; croner wants it no larger than the field
    return { text: `${start}-${end}/${Math.min(step, b.max - b.min + 1)}`, star };
  }
  return { text: start === end ? String(start) : `${start}-${end}`, star };
}

/** A field as robfig's getField reads it: items split on ",", empty ones dropped. */
function robfigField(field: string, b: Bounds): { readonly text: string; readonly empty: boolean } | undefined {
  const texts: string[] = [];
  for (const part of field.split(',')) {
    if (part === '') continue;
    const item = robfigItem(part, b);
    if (item === undefined) return undefined;
    if (item.star) return { text: '*', empty: false };
    texts.push(item.text);
  }
  return { text: texts.join(','), empty: texts.length === 0 };
}

export type RobfigResult =
  /** robfig accepts every field: give croner this expression, which selects the same times. */
  | { readonly kind: 'croner'; readonly expression: string }
  /** robfig accepts it, but a field selects no value: it never fires (robfig returns no time). */
  | { readonly kind: 'never'; readonly reason: string }
  /** robfig rejects it: only croner's extensions can make sense of it. */
  | { readonly kind: 'not-robfig' };

const NOT_ROBFIG: RobfigResult = Object.freeze({ kind: 'not-robfig' });

/** The fields of a 5-field (minute first) or 6-field (second first) expression, read as robfig does. */
export function robfigToCroner(fields: readonly string[]): RobfigResult {
  const bounds = fields.length === 5 ? FIVE : fields.length === 6 ? SIX : undefined;
  if (bounds === undefined) return NOT_ROBFIG;
  const out: string[] = [];
  let empty: string | undefined;
  for (let i = 0; i < fields.length; i++) {
    const b = bounds[i] as Bounds;
    const field = robfigField(fields[i] as string, b);
    if (field === undefined) return NOT_ROBFIG;
    if (field.empty) empty ??= `the ${b.name} field ${JSON.stringify(fields[i])} selects no value, so the expression never fires`;
    out.push(field.text);
  }
  if (empty !== undefined) return { kind: 'never', reason: empty };
  return { kind: 'croner', expression: out.join(' ') };
}
