/**
 * A real pino logger (src/log.ts, json encoding, debug on) writing to memory, for assertions on
 * what the connector logs: each line parsed, without its wall-clock `time`.
 */
import { createLogger, type Logger } from '../../src/log.ts';

/** Taken at load, so a test spying on JSON.parse sees only the code under test. */
const parseLine: (text: string) => unknown = JSON.parse.bind(JSON);

export type LogEntry = Readonly<Record<string, unknown>> & { readonly level: string; readonly msg: string };

export interface LogCapture {
  readonly logger: Logger;
  /** Every line written so far, in order. */
  readonly entries: readonly LogEntry[];
  /** The lines with this message. */
  named(msg: string): LogEntry[];
  /** The messages written so far, in order. */
  messages(): string[];
  /** Every raw line, for checks that a secret never appears. */
  readonly raw: readonly string[];
}

export function captureLogs(opts: { debug?: boolean } = {}): LogCapture {
  const entries: LogEntry[] = [];
  const raw: string[] = [];
  const { logger } = createLogger(
    { encoding: 'json', debug: opts.debug ?? true },
    {
      write(line: string) {
        raw.push(line);
        const entry = parseLine(line) as Record<string, unknown>;
        delete entry.time;
        entries.push(entry as LogEntry);
      },
    },
  );
  return {
    logger,
    entries,
    raw,
    named: (msg) => entries.filter((e) => e.msg === msg),
    messages: () => entries.map((e) => e.msg),
  };
}
