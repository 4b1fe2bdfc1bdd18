/**
 * Logging: pino with named fields, never format strings. Two encodings:
 * - json: one JSON object per line, message in `msg`, level as a label;
 * - console: one readable line per event, `time<TAB>level<TAB>message<TAB>{fields}` like zap's
 *   console encoder the OpenFaaS connectors use, so `stern` output reads the same.
 * Secrets are redacted by construction: nothing logs a token or a header map, and the redact
 * list below is a second line of defence.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogEncoding } from './config.ts';
import { isoMemo } from './iso-time.ts';

export type { Logger } from 'pino';

export interface LogSink {
  write(line: string): void;
  flushSync?(): void;
}

const REDACT = [
  'authorization',
  'Authorization',
  'token',
  'accessToken',
  'access_token',
  'subject_token',
  'password',
  'headers.authorization',
  'err.config',
];

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
  return {
    write: (line) => target.write(toConsoleLine(line)),
    flushSync: () => target.flushSync?.(),
  };
}

export interface LoggerHandle {
  readonly logger: Logger;
  /** Writes out anything buffered; call before the process exits. */
  readonly flush: () => void;
}

export function createLogger(opts: { encoding: LogEncoding; debug: boolean }, sink?: LogSink): LoggerHandle {
  const target: LogSink = sink ?? pino.destination({ dest: 1, sync: false, minLength: 0 });
  const stream = opts.encoding === 'console' ? consoleSink(target) : target;
  const logger = pino(
    {
      level: opts.debug ? 'debug' : 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"time":"${isoNow(Date.now())}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[REDACTED]' },
    },
    stream as DestinationStream,
  );
  return {
    logger,
    flush: () => {
      try {
        target.flushSync?.();
      } catch {
        // a closed stdout must not turn shutdown into a crash
      }
    },
  };
}
