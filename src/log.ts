/**
 * Logging: pino with named fields, never format strings. Two encodings:
 * - json: one JSON object per line, message in `msg`, level as a label;
 * - console: one readable line per event, `time<TAB>level<TAB>message<TAB>{fields}` like zap's
 *   console encoder the OpenFaaS connectors use, so `stern` output reads the same.
 * Secrets are redacted by construction: nothing logs a token or a header map. As a second line
 * of defence every field of every line, at any depth, is checked: a secret-named field
 * (authorization, token, password, …) is replaced, and a token- or credential-shaped part of any
 * string (a JWT, "Bearer …", "Basic …") is cut out (src/redact.ts).
 * Lines go to stdout through a sink that never blocks and never loops (src/log-sink.ts).
 */
import { pino, type Logger } from 'pino';
import type { LogEncoding } from './config.ts';
import { isoMemo } from './iso-time.ts';
import { StreamSink } from './log-sink.ts';
import { REDACTED, isSecretKey, scrubSecrets } from './redact.ts';

export type { Logger } from 'pino';

export interface LogSink {
  write(line: string): void;
}

/** pino's isoTime, memoized per millisecond (a burst writes thousands of lines per millisecond). */
const isoNow = isoMemo();

const CORE_KEYS = new Set(['level', 'time', 'msg']);

/** Turns one pino JSON line into a console line. Unparsable input passes through unchanged. */
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

function consoleSink(target: LogSink): LogSink {
  return { write: (line) => target.write(toConsoleLine(line)) };
}

/** Deeper than any field the connector logs; beyond it a value is replaced rather than walked. */
const MAX_DEPTH = 8;

/** Key checks remembered: a log line's keys are a handful of constant names. */
const secretKeys = new Map<string, boolean>();

function secretKey(key: string): boolean {
  let known = secretKeys.get(key);
  if (known === undefined) {
    known = isSecretKey(key);
    if (secretKeys.size < 4096) secretKeys.set(key, known);
  }
  return known;
}

/**
 * `value` with secrets removed at any depth; the same object when there is nothing to remove
 * (the common case allocates nothing).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (typeof value !== 'object' || value === null) return value;
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
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const clean = item !== undefined && secretKey(key) ? REDACTED : redact(item, depth + 1);
    if (clean !== item) (copy ??= { ...record })[key] = clean;
  }
  return copy ?? value;
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
  const stream = opts.encoding === 'console' ? consoleSink(target) : target;
  const logger = pino(
    {
      level: opts.debug ? 'debug' : 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"time":"${isoNow(Date.now())}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redact(fields) as Record<string, unknown>,
      },
    },
    stream,
  );
  return {
    logger,
    flush: (timeoutMs) => stdout?.flush(timeoutMs) ?? Promise.resolve(),
    dropped: () => stdout?.dropped ?? 0,
  };
}
