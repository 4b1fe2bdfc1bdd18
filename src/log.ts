/**
 * Logging: pino with named fields, never format strings. Two encodings:
 * - json: one JSON object per line, message in `msg`, level as a label;
 * - console: one readable line per event, `time<TAB>level<TAB>message<TAB>{fields}` like zap's
 *   console encoder the OpenFaaS connectors use, so `stern` output reads the same.
 * In both the usual line is assembled from pino's own parts (level, time, message, and the fields
 * in one JSON.stringify) and pino serializes nothing of it; any other is written as JSON by pino
 * (and, in console, rebuilt by parsing it: toConsoleLine). Same bytes either way.
 * Secrets are redacted by construction: nothing logs a token or a header map. As a second line
 * of defence every field of every line, at any depth, is checked: a secret-named field
 * (authorization, token, password, …) is replaced, and a token- or credential-shaped part of any
 * string (a JWT, "Bearer …", "Basic …") is cut out (src/redact.ts).
 * Lines go to stdout through a sink that never blocks and never loops (src/log-sink.ts).
 */
import { isProxy } from 'node:util/types';
import { pino, type Logger } from 'pino';
import type { LogEncoding } from './config.ts';
import { isoMemo } from './iso-time.ts';
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

/** Bits of a field name's kind. */
const SECRET_KEY = 1;
/**
 * A top-level field name that pino or the console encoding treat specially: level, time and msg
 * (the line's own), err (pino's error serializer), __proto__ (a setter once parsed), toJSON
 * (JSON.stringify would call it, pino does not).
 */
const SPECIAL_KEY = 2;
/** A name that is not well-formed UTF-16 (a lone surrogate): pino writes it raw, JSON.stringify escaped. */
const ILL_FORMED_KEY = 4;
const SPECIAL_KEYS = new Set(['level', 'time', 'msg', 'err', '__proto__', 'toJSON']);

/** Key checks remembered: a log line's keys are a handful of constant names. */
const keyKinds = new Map<string, number>();

function keyKind(key: string): number {
  let kind = keyKinds.get(key);
  if (kind === undefined) {
    kind = (isSecretKey(key) ? SECRET_KEY : SPECIAL_KEYS.has(key) ? SPECIAL_KEY : 0) | (key.isWellFormed() ? 0 : ILL_FORMED_KEY);
    if (keyKinds.size < 4096) keyKinds.set(key, kind);
  }
  return kind;
}

/**
 * Set to true by cleanFields, to false by it or redact on meeting what could make
 * JSON.stringify(fields) differ from JSON.stringify(JSON.parse(pino's text of the fields)): a
 * special top-level key, a toJSON anywhere (JSON.stringify would call the fields' one, pino not;
 * a field's one it calls with another key than pino does), a function (a toJSON method), an
 * object other than an object literal or an array (a Date, a class with toJSON, a Proxy that
 * lists its keys in any order). A bigint is left to JSON.stringify, which throws on it.
 */
let plain = true;

/** Lines the formatter has begun, to notice one logged while another's fields are walked. */
let lineSeq = 0;

/**
 * Set to true by cleanFields, to false by it on meeting a top-level name or string value that is
 * not well-formed UTF-16 (a lone surrogate): pino writes one of up to 100 characters and no
 * control character with the surrogate raw, JSON.stringify escapes it (all such strings are left
 * to pino). pino writes every other string as JSON.stringify does (tools.js asString: `"` and `\`
 * escaped, or JSON.stringify itself), and nested values with JSON.stringify (tools.js asJson).
 */
let wellFormed = true;

/**
 * An object literal (or Object.create(null)): not a Date, a Map, a class instance that may have
 * toJSON, nor a Proxy that may list its keys in any order. Its own enumerable keys are listed by
 * `for…in` as by Object.keys (same order: integer keys first, then in order of creation), before
 * any inherited one (none, unless Object.prototype was given an enumerable property).
 */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !isProxy(value);
}

/** One field of `record`, redacted into `copy` (made when first needed), which it returns. */
function redactEntry(record: Record<string, unknown>, key: string, depth: number, copy: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const item = record[key];
  const clean = item !== undefined && (keyKind(key) & SECRET_KEY) !== 0 ? REDACTED : redact(item, depth + 1);
  if (clean !== item) (copy ??= { ...record })[key] = clean;
  return copy;
}

/**
 * `value` with secrets removed at any depth; the same object when there is nothing to remove
 * (the common case allocates nothing: an object literal's keys are walked with for…in, which
 * reads them from its shape, not with Object.keys, which makes an array of them).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function') plain = false; // a toJSON method, say
    return value;
  }
  if (depth >= MAX_DEPTH) return '[TOO DEEP]';
  // JSON.stringify calls a toJSON, even one not listed (not enumerable, an array's), with the
  // value's key: pino's JSON.stringify of a field, with ''
  if ((value as { toJSON?: unknown }).toJSON !== undefined) plain = false;
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
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  if (isPlainObject(value)) {
    for (const key in record) if (Object.hasOwn(record, key)) copy = redactEntry(record, key, depth, copy);
  } else {
    plain = false;
    for (const key of Object.keys(record)) copy = redactEntry(record, key, depth, copy);
  }
  return copy ?? value;
}

/**
 * The fields of one log line, redacted: exactly redact(fields), with the walk of the common flat
 * object literal of strings and numbers unrolled. Leaves `plain` true when a line may show
 * JSON.stringify of the result: an object literal with no special key, and values that are
 * strings, numbers, booleans, null, undefined, or object literals and arrays of those (see
 * `plain`); and `wellFormed` true when pino would write its top-level strings as JSON.stringify
 * does.
 */
function cleanFields(fields: Record<string, unknown>): Record<string, unknown> {
  plain = true;
  wellFormed = true;
  if (Array.isArray(fields) || fields instanceof Error || !isPlainObject(fields) || fields.toJSON !== undefined) {
    plain = false;
    return redact(fields) as Record<string, unknown>;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const item = fields[key];
    if (item === undefined) continue;
    let clean: unknown;
    const kind = keyKind(key);
    if (kind !== 0) {
      if ((kind & SPECIAL_KEY) !== 0) plain = false;
      if ((kind & ILL_FORMED_KEY) !== 0) wellFormed = false;
    }
    if ((kind & SECRET_KEY) !== 0) {
      clean = REDACTED;
    } else if (typeof item === 'string') {
      clean = scrubSecrets(item);
      if (!(clean as string).isWellFormed()) wellFormed = false;
    } else if (typeof item !== 'object') {
      continue; // a number, a boolean (both skip a function, a symbol; JSON.stringify throws on a bigint)
    } else {
      clean = redact(item, 1);
    }
    if (clean !== item) (copy ??= { ...fields })[key] = clean;
  }
  return copy ?? fields;
}

const NO_FIELDS: Record<string, unknown> = Object.freeze({});
/** A message serialized to a function is not written (pino tools.js asJson). */
const SKIPPED = (): void => undefined;

/** JSON.stringify of plain fields, or undefined when it throws (a bigint: pino writes it otherwise). */
function stringifyPlain(fields: Record<string, unknown>): string | undefined {
  try {
    return JSON.stringify(fields);
  } catch {
    return undefined;
  }
}

/**
 * The end of a json line with message `msg`, `,"msg":"…"}\n`, as pino writes it; null when pino
 * writes the message otherwise (a lone surrogate). Remembered: messages are a handful of constants.
 */
const msgTails = new Map<string, string | null>();

function msgTail(msg: string): string | null {
  let tail = msgTails.get(msg);
  if (tail === undefined) {
    tail = msg.isWellFormed() ? `,"msg":${JSON.stringify(msg)}}\n` : null;
    if (msgTails.size < 1024 && msg.length <= 256) msgTails.set(msg, tail);
  }
  return tail;
}

/**
 * logger.info(fields, msg) for a caller whose fields are an object literal of strings, numbers,
 * booleans and undefined it has just built (the invoker's Invoking and Response lines, two per
 * invocation): the same bytes.
 */
export type PlainInfo = (fields: Record<string, unknown>, msg: string) => void;

/** The plain-line writers of loggers made by createLogger. */
const plainInfos = new WeakMap<Logger, PlainInfo>();

/**
 * The PlainInfo of `logger`: createLogger's writes the usual line without going through pino's
 * call (its level method, hooks, serializers and formatters: a third of a line's cost), and any
 * other line through logger.info; for a logger made elsewhere, logger.info.
 */
export function plainInfoOf(logger: Logger): PlainInfo {
  return plainInfos.get(logger) ?? ((fields, msg) => logger.info(fields, msg));
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
  const consoleLines = opts.encoding === 'console';
  // pino's isoTime, memoized per millisecond (a burst writes thousands of lines per millisecond);
  // the formatter reads the last stamp's ISO text too
  const isoOf = isoMemo();
  let lastIso = '';
  let lastTime = '';
  const timestamp = (): string => {
    const iso = isoOf(Date.now());
    if (iso !== lastIso) {
      lastIso = iso;
      lastTime = `,"time":"${iso}"`;
    }
    return lastTime;
  };
  // For the common call, log(fields, 'message'), log('message') or log(fields), with plain fields
  // (cleanFields), the log formatter assembles the line itself (`encode`) from what pino writes
  // its own line of: the level (logMethod hook), the message (the call's: pino writes it as it
  // is), the time (this timestamp, just called for the line) and the fields, as JSON.stringify
  // writes them, which it then keeps from pino. The sink writes that line in place of pino's.
  // Any other line pino writes whole: as it is in json, parsed and rebuilt in console
  // (toConsoleLine). The hook sets `callMsg` for every call (undefined: another shape, null: no
  // message) and the formatter takes it: a line logged in between (from a getter) takes it first,
  // and the outer line is pino's. Every formatter call pushes a line (or undefined), every sink
  // call pops one. `fast` is false for good once bindings exist (a child logger, setBindings).
  // The message of an assembled line pino does not write either: its `msg` serializer, told by
  // the formatter (`skipMsg`), turns it into a function, which pino skips; any other value, a
  // field named msg say, it returns as it is.
  let fast = true;
  let skipMsg = false;
  let callMsg: string | null | undefined;
  let callLevel = 0;
  const kept: Array<string | undefined> = [];
  const disable = (): void => {
    fast = false;
    kept.length = 0;
  };
  let labels: Record<number, string> = {};
  // pino's own start of a line for each level, `{"level":"info"` (levels.js genLsCache)
  const starts: Record<number, string> = {};
  // The start of a line, the same for every line of a level in a millisecond: made once.
  let headTime = '';
  let headLevel = -1;
  let head = '';
  /** The line for plain fields `json` (JSON.stringify of them), or undefined: pino's is another. */
  const encode = consoleLines
    ? (level: number, iso: string, time: string, msg: string | null, json: string): string | undefined => {
        if (time !== headTime || level !== headLevel) {
          const label = labels[level];
          if (label === undefined) return undefined;
          headTime = time;
          headLevel = level;
          head = `${iso}\t${label}\t`;
        }
        return `${head}${msg ?? ''}${json.length > 2 ? `\t${json}` : ''}\n`;
      }
    : (level: number, _iso: string, time: string, msg: string | null, json: string): string | undefined => {
        // pino: start + time + `,"key":value` for each field + `,"msg":"…"` + `}\n`, each string
        // with asString (JSON.stringify's bytes when well-formed), each number or boolean as
        // JSON.stringify writes it (a non-finite one as null), each object with JSON.stringify,
        // undefined, a function or a symbol skipped: JSON.stringify(fields) between its braces.
        const tail = msg === null ? '}\n' : msgTail(msg);
        if (tail === null || !wellFormed) return undefined;
        if (json.length <= 2) {
          const start = starts[level];
          return start === undefined ? undefined : `${start}${time}${tail}`;
        }
        if (time !== headTime || level !== headLevel) {
          const start = starts[level];
          if (start === undefined) return undefined;
          headTime = time;
          headLevel = level;
          head = `${start}${time},`;
        }
        return `${head}${json.slice(1, -1)}${tail}`;
      };
  const level = (label: string): Record<string, unknown> => ({ level: label });
  const logger = pino(
    {
      level: opts.debug ? 'debug' : 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp,
      onChild: disable,
      serializers: {
        msg: (value: unknown): unknown => {
          if (!skipMsg) return value;
          skipMsg = false;
          return SKIPPED;
        },
      },
      hooks: {
        logMethod(args, method, levelValue) {
          const first: unknown = args[0];
          if (args.length === 1) callMsg = typeof first === 'string' ? first : typeof first === 'object' && first !== null ? null : undefined;
          else callMsg = args.length === 2 && typeof args[1] === 'string' && typeof first === 'object' && first !== null ? args[1] : undefined;
          callLevel = levelValue;
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
          // the call's and the time's, taken before a getter read below can log another line
          const msg = callMsg;
          const lineLevel = callLevel;
          const iso = lastIso;
          const time = lastTime;
          callMsg = undefined;
          const seq = ++lineSeq;
          const clean = cleanFields(fields);
          // a line logged meanwhile (from a getter) has reset the module's flags: pino's own path
          let json = fast && plain && msg !== undefined && seq === lineSeq ? stringifyPlain(clean) : undefined;
          if (seq !== lineSeq) json = undefined;
          const line = json === undefined ? undefined : encode(lineLevel, iso, time, msg as string | null, json);
          if (kept.length > 64) kept.length = 0; // lines whose sink call never came (not seen)
          kept.push(line);
          skipMsg = line !== undefined && msg !== null; // pino has the message of log(…, 'message')
          return line === undefined ? clean : NO_FIELDS;
        },
      },
    },
    { write: (line: string) => target.write(kept.pop() ?? (consoleLines ? toConsoleLine(line) : line)) },
  );
  labels = logger.levels.labels;
  for (const [value, label] of Object.entries(labels)) starts[Number(value)] = JSON.stringify(level(label)).slice(0, -1);
  const info = logger.levels.values['info'] ?? 30;
  // What the formatter does for log(fields, msg), without pino around it: a line it would not
  // assemble (fields cleanFields finds unusual, a line logged meanwhile) goes to logger.info.
  plainInfos.set(logger, (fields, msg) => {
    if (fast && logger.levelVal <= info) {
      timestamp();
      const seq = ++lineSeq;
      const clean = cleanFields(fields);
      const json = plain && seq === lineSeq ? stringifyPlain(clean) : undefined;
      const line = json === undefined || seq !== lineSeq ? undefined : encode(info, lastIso, lastTime, msg, json);
      if (line !== undefined) {
        target.write(line);
        return;
      }
    }
    logger.info(fields, msg);
  });
  return handle(logger, stdout);
}

function handle(logger: Logger, stdout: StreamSink | undefined): LoggerHandle {
  return {
    logger,
    flush: (timeoutMs) => stdout?.flush(timeoutMs) ?? Promise.resolve(),
    dropped: () => stdout?.dropped ?? 0,
  };
}
