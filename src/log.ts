/**
 * Logging: pino with named fields, never format strings. Two encodings:
 * - json: one JSON object per line, message in `msg`, level as a label;
 * - console: one readable line per event, `time<TAB>level<TAB>message<TAB>{fields}` like zap's
 *   console encoder the OpenFaaS connectors use, so `stern` output reads the same. The usual
 *   line is assembled from pino's own parts (level, time, message, fields) and no JSON is parsed;
 *   any other is written as JSON by pino and rebuilt by parsing it (toConsoleLine): same bytes.
 * Secrets are redacted by construction: nothing logs a token or a header map. As a second line
 * of defence every field of every line, at any depth, is checked: a secret-named field
 * (authorization, token, password, …) is replaced, and a token- or credential-shaped part of any
 * string (a JWT, "Bearer …", "Basic …") is cut out (src/redact.ts).
 * Lines go to stdout through a sink that never blocks and never loops (src/log-sink.ts).
 */
import { isProxy } from 'node:util/types';
import { pino, type Logger } from 'pino';
import type { LogEncoding } from './config.ts';
import { StreamSink } from './log-sink.ts';
import { REDACTED, isSecretKey, scrubSecrets } from './redact.ts';

export type { Logger } from 'pino';

export interface LogSink {
  write(line: string): void;
}

const CORE_KEYS = new Set(['level', 'time', 'msg']);

/**
 * Turns one pino JSON line into a console line by parsing it: the reference algorithm, and the
 * way of any line the console encoding does not assemble itself. Unparsable input passes
 * through unchanged.
 */
export function toConsoleLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (!CORE_KEYS.has(key)) fields[key] = value;
  }
  const extra = Object.keys(fields).length > 0 ? `\t${JSON.stringify(fields)}` : '';
  return `${String(entry.time)}\t${String(entry.level)}\t${typeof entry.msg === 'string' ? entry.msg : ''}${extra}\n`;
}

/** Deeper than any field the connector logs; beyond it a value is replaced rather than walked. */
const MAX_DEPTH = 8;

const PLAIN_KEY = 0;
const SECRET_KEY = 1;
/**
 * A top-level field name that pino or the console encoding treat specially: level, time and msg
 * (the console line's own), err (pino's error serializer), __proto__ (a setter once parsed),
 * toJSON (JSON.stringify would call it, pino does not).
 */
const SPECIAL_KEY = 2;
const SPECIAL_KEYS = new Set(['level', 'time', 'msg', 'err', '__proto__', 'toJSON']);

/** Key checks remembered: a log line's keys are a handful of constant names. */
const keyKinds = new Map<string, number>();

function keyKind(key: string): number {
  let kind = keyKinds.get(key);
  if (kind === undefined) {
    kind = isSecretKey(key) ? SECRET_KEY : SPECIAL_KEYS.has(key) ? SPECIAL_KEY : PLAIN_KEY;
    if (keyKinds.size < 4096) keyKinds.set(key, kind);
  }
  return kind;
}

/**
 * Set to true by cleanFields, to false by it or redact on meeting what could make
 * JSON.stringify(fields) differ from JSON.stringify(JSON.parse(pino's text of the fields)): a
 * special top-level key, a function (a toJSON method), an object other than an object literal or
 * an array (a Date, a class with toJSON, a Proxy that lists its keys in any order). A bigint is
 * left to JSON.stringify, which throws on it.
 */
let plain = true;

/**
 * An object literal (or Object.create(null)): not a Date, a Map, a class instance that may have
 * toJSON, nor a Proxy that may list its keys in any order.
 */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !isProxy(value);
}

/**
 * `value` with secrets removed at any depth; the same object when there is nothing to remove
 * (the common case allocates nothing).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function') plain = false; // a toJSON method, say
    return value;
  }
  if (depth >= MAX_DEPTH) return '[TOO DEEP]';
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = redact(item, depth + 1);
      if (clean !== item) (copy ??= value.slice())[i] = clean;
    }
    return copy ?? value;
  }
  if (value instanceof Error) return redact({ message: value.message }, depth);
  if (!isPlainObject(value)) plain = false;
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const clean = item !== undefined && keyKind(key) === SECRET_KEY ? REDACTED : redact(item, depth + 1);
    if (clean !== item) (copy ??= { ...record })[key] = clean;
  }
  return copy ?? value;
}

/**
 * The fields of one log line, redacted: exactly redact(fields), with the walk of the common flat
 * object of strings and numbers unrolled. Leaves `plain` true when the console line may show
 * JSON.stringify of the result: no special key, and values that are strings, numbers, booleans,
 * null, undefined, or object literals and arrays of those (see `plain`).
 */
function cleanFields(fields: Record<string, unknown>): Record<string, unknown> {
  plain = true;
  if (Array.isArray(fields) || fields instanceof Error) {
    plain = false;
    return redact(fields) as Record<string, unknown>;
  }
  if (!isPlainObject(fields)) plain = false;
  let copy: Record<string, unknown> | undefined;
  const keys = Object.keys(fields);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = fields[key];
    if (item === undefined) continue;
    let clean: unknown;
    const kind = keyKind(key);
    if (kind === SECRET_KEY) {
      clean = REDACTED;
    } else {
      if (kind === SPECIAL_KEY) plain = false;
      if (typeof item === 'string') clean = scrubSecrets(item);
      else if (typeof item !== 'object') continue; // a number, a boolean (both skip a function, a symbol; JSON.stringify throws on a bigint)
      else clean = redact(item, 1);
    }
    if (clean !== item) (copy ??= { ...fields })[key] = clean;
  }
  return copy ?? fields;
}

const NO_FIELDS: Record<string, unknown> = Object.freeze({});

/** JSON.stringify of plain fields, or undefined when it throws (a bigint: pino writes it otherwise). */
function stringifyPlain(fields: Record<string, unknown>): string | undefined {
  try {
    return JSON.stringify(fields);
  } catch {
    return undefined;
  }
}

export interface LoggerHandle {
  readonly logger: Logger;
  /** Writes out what is buffered, waiting at most `timeoutMs`; never rejects. */
  readonly flush: (timeoutMs: number) => Promise<void>;
  /** Lines dropped because stdout was gone or would not take them. */
  readonly dropped: () => number;
}

export function createLogger(opts: { encoding: LogEncoding; debug: boolean }, sink?: LogSink): LoggerHandle {
  const stdout = sink === undefined ? new StreamSink(process.stdout) : undefined;
  const target: LogSink = sink ?? (stdout as StreamSink);
  // pino's isoTime, memoized per millisecond (a burst writes thousands of lines per millisecond)
  let lastMs = Number.NaN;
  let lastIso = '';
  let lastTime = '';
  const timestamp = (): string => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
      lastTime = `,"time":"${lastIso}"`;
    }
    return lastTime;
  };
  const common = { level: opts.debug ? 'debug' : 'info', base: undefined, messageKey: 'msg', timestamp };
  const level = (label: string): Record<string, unknown> => ({ level: label });
  if (opts.encoding !== 'console') {
    return handle(pino({ ...common, formatters: { level, log: cleanFields } }, target), stdout);
  }
  // console: for the common call, log(fields, 'message'), log('message') or log(fields), with
  // plain fields (cleanFields), the log formatter assembles the console line from what pino
  // writes its own line of: the level (logMethod hook), the message (the call's: pino writes it
  // as it is), the time (this timestamp, just called for the line) and the fields, as
  // JSON.stringify writes them, which it then keeps from pino. The sink writes that line in
  // place of pino's. Any other line pino writes whole, and the sink parses it (toConsoleLine).
  // The hook sets `callMsg` for every call (undefined: another shape) and the formatter takes
  // it: a line logged in between (from a getter) takes it first, and the outer line is parsed.
  // Every formatter call pushes a console line (or undefined), every sink call pops one.
  // `fast` is false for good once bindings exist (a child logger, setBindings).
  let fast = true;
  let callMsg: string | undefined;
  let callLabel: string | undefined;
  const kept: Array<string | undefined> = [];
  const disable = (): void => {
    fast = false;
    kept.length = 0;
  };
  let labels: Record<number, string> = {};
  const logger = pino(
    {
      ...common,
      onChild: disable,
      hooks: {
        logMethod(args, method, levelValue) {
          const first: unknown = args[0];
          if (args.length === 1) callMsg = typeof first === 'string' ? first : typeof first === 'object' && first !== null ? '' : undefined;
          else callMsg = args.length === 2 && typeof args[1] === 'string' && typeof first === 'object' && first !== null ? args[1] : undefined;
          callLabel = labels[levelValue];
          method.apply(this, args);
        },
      },
      formatters: {
        level,
        bindings: (bindings) => {
          if (bindings !== undefined && bindings !== null) disable();
          return bindings;
        },
        log: (fields) => {
          const msg = callMsg;
          callMsg = undefined;
          const clean = cleanFields(fields);
          const json = fast && plain && msg !== undefined && callLabel !== undefined ? stringifyPlain(clean) : undefined;
          if (kept.length > 64) kept.length = 0; // lines whose sink call never came (not seen)
          if (json === undefined) {
            kept.push(undefined);
            return clean;
          }
          kept.push(`${lastIso}\t${callLabel}\t${msg}${json.length > 2 ? `\t${json}` : ''}\n`);
          return NO_FIELDS;
        },
      },
    },
    { write: (line: string) => target.write(kept.pop() ?? toConsoleLine(line)) },
  );
  labels = logger.levels.labels;
  return handle(logger, stdout);
}

function handle(logger: Logger, stdout: StreamSink | undefined): LoggerHandle {
  return {
    logger,
    flush: (timeoutMs) => stdout?.flush(timeoutMs) ?? Promise.resolve(),
    dropped: () => stdout?.dropped ?? 0,
  };
}
