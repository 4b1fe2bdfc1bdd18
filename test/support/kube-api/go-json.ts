/**
 * Decoding JSON into typed Kubernetes objects the way the kube-apiserver does (Go's encoding/json
 * via sigs.k8s.io/json): type errors with Go's wording, unknown fields collected (they are dropped,
 * with a warning, unless `fieldValidation=Strict`), `null` meaning "not set", and the MicroTime and
 * Time formats with Go's `time.Parse` errors.
 */

export type JsonObject = Record<string, unknown>;

/** A body that cannot be decoded into the Go type. */
export class DecodeError extends Error {}

/** Where a value sits: the innermost Go struct's name and the JSON path from the root. */
export interface FieldContext {
  struct: string;
  path: string;
}

export class DecodeState {
  readonly unknownFields: string[] = [];

  unknown(path: string): void {
    this.unknownFields.push(path);
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON type name Go puts in an `UnmarshalTypeError`. */
function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}

/** `json: cannot unmarshal <type> into Go struct field <Struct>.<path> of type <goType>`. */
export function typeError(value: unknown, ctx: FieldContext, goType: string, literal = false): DecodeError {
  const what = literal && typeof value === 'number' ? `number ${String(value)}` : jsonType(value);
  return new DecodeError(`json: cannot unmarshal ${what} into Go struct field ${ctx.struct}.${ctx.path} of type ${goType}`);
}

export function child(ctx: FieldContext, key: string, struct = ctx.struct): FieldContext {
  return { struct, path: ctx.path === '' ? key : `${ctx.path}.${key}` };
}

export function decodeString(value: unknown, ctx: FieldContext, goType = 'string'): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw typeError(value, ctx, goType);
  return value;
}

export function decodeBool(value: unknown, ctx: FieldContext): boolean | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'boolean') throw typeError(value, ctx, 'bool');
  return value;
}

const INT_RANGES = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
} as const;

export function decodeInt(value: unknown, ctx: FieldContext, goType: keyof typeof INT_RANGES): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'number') throw typeError(value, ctx, goType);
  const [min, max] = INT_RANGES[goType];
  if (!Number.isInteger(value) || value < min || value > max) throw typeError(value, ctx, goType, true);
  return value;
}

/** `map[string]string`, keys sorted as Go marshals maps. */
export function decodeStringMap(value: unknown, ctx: FieldContext): Record<string, string> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) throw typeError(value, ctx, 'map[string]string');
  const out: Record<string, string> = {};
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (item === null) continue;
    if (typeof item !== 'string') throw typeError(item, ctx, 'string');
    defineOwn(out, key, item);
  }
  return out;
}

/** `map[string][]byte`: base64 strings. */
export function decodeBytesMap(value: unknown, ctx: FieldContext): Record<string, string> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) throw typeError(value, ctx, 'map[string][]uint8');
  const out: Record<string, string> = {};
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (item === null) continue;
    if (typeof item !== 'string') throw typeError(item, ctx, '[]uint8');
    const bad = /[^A-Za-z0-9+/=]/.exec(item);
    if (bad !== null || item.length % 4 !== 0) {
      throw new DecodeError(`illegal base64 data at input byte ${bad?.index ?? item.length}`);
    }
    defineOwn(out, key, item);
  }
  return out;
}

export function decodeStringList(value: unknown, ctx: FieldContext): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value)) throw typeError(value, ctx, '[]string');
  return value.map((item) => {
    if (typeof item !== 'string') throw typeError(item, ctx, 'string');
    return item;
  });
}

/** A list the emulator keeps as it is (e.g. ownerReferences), checked only for being a list of objects. */
export function decodeObjectList(value: unknown, ctx: FieldContext, goType: string): JsonObject[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value)) throw typeError(value, ctx, goType);
  return value.map((item) => {
    if (!isObject(item)) throw typeError(item, ctx, goType.replace(/^\[\]/, ''));
    return structuredClone(item);
  });
}

export function requireObject(value: unknown, ctx: FieldContext, goType: string): JsonObject | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) throw typeError(value, ctx, goType);
  return value;
}

/** Records every key of `value` not in `known` as an unknown field. */
export function noteUnknown(value: JsonObject, known: ReadonlySet<string>, ctx: FieldContext, state: DecodeState): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) state.unknown(ctx.path === '' ? key : `${ctx.path}.${key}`);
  }
}

/** Sets an own property even for keys like `__proto__`. */
export function defineOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// Times

export const RFC3339_MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
export const RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/;
const ZONE = /^(?:Z|([+-])(\d{2}):(\d{2}))$/;

interface ParsedTime {
  /** Milliseconds since the epoch of the whole second. */
  secondMs: number;
  /** The fraction as written, digits only ('' when none). */
  fraction: string;
}

/**
 * `metav1.MicroTime.UnmarshalJSON`: `time.Parse(RFC3339Micro, s)` — exactly six fractional digits,
 * `Z` or a `±hh:mm` offset — and `MarshalJSON` in UTC. Returns the value the server stores and echoes.
 */
export function decodeMicroTime(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw new DecodeError(`json: cannot unmarshal ${jsonType(value)} into Go value of type string`);
  const parsed = parseGoTime(value, RFC3339_MICRO_LAYOUT, (rest) => {
    if (!/^\.\d{6}/.test(rest)) return { error: rest, as: '.000000' };
    return { fraction: rest.slice(1, 7), zone: rest.slice(7) };
  });
  return `${formatSecond(parsed.secondMs)}.${parsed.fraction}Z`;
}

/** `metav1.Time.UnmarshalJSON`: RFC 3339 with an optional fraction, marshalled back in UTC whole seconds. */
export function decodeTime(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw new DecodeError(`json: cannot unmarshal ${jsonType(value)} into Go value of type string`);
  const parsed = parseGoTime(value, RFC3339_LAYOUT, (rest) => {
    const fraction = /^[.,](\d+)/.exec(rest);
    return fraction === null ? { fraction: '', zone: rest } : { fraction: fraction[1] ?? '', zone: rest.slice(fraction[0].length) };
  });
  return `${formatSecond(parsed.secondMs)}Z`;
}

type FractionResult = { fraction: string; zone: string } | { error: string; as: string };

function parseGoTime(text: string, layout: string, fraction: (rest: string) => FractionResult): ParsedTime {
  const fail = (element: string, as: string): DecodeError =>
    new DecodeError(`parsing time ${JSON.stringify(text)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(element)} as ${JSON.stringify(as)}`);
  const match = DATE_TIME.exec(text);
  if (match === null) throw fail(text, '2006');
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = fraction(text.slice(match[0].length));
  if ('error' in frac) throw fail(frac.error, frac.as);
  const zone = ZONE.exec(frac.zone);
  if (zone === null) throw fail(frac.zone, 'Z07:00');

  const range = (what: string): DecodeError => new DecodeError(`parsing time ${JSON.stringify(text)}: ${what} out of range`);
  if (month < 1 || month > 12) throw range('month');
  if (hour > 23) throw range('hour');
  if (minute > 59) throw range('minute');
  if (second > 59) throw range('second');
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) throw range('day');

  let offsetMinutes = 0;
  if (zone[1] !== undefined) {
    const hours = Number(zone[2]);
    const minutes = Number(zone[3]);
    if (hours > 24 || minutes > 59) throw range('time zone offset');
    offsetMinutes = (zone[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  return { secondMs: local - offsetMinutes * 60_000, fraction: frac.fraction };
}

function formatSecond(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** `metav1.Now()` as marshalled: RFC 3339, UTC, whole seconds. */
export function nowTime(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}
