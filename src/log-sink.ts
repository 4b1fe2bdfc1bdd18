/**
 * Where log lines go: a Node.js writable stream (stdout), fed in batches.
 * - Never blocks the event loop and never loops: lines are joined and handed to the stream once
 *   per FLUSH_MS (or as soon as FLUSH_BYTES are waiting): a burst of thousands of lines spread
 *   over many event-loop turns is a few writes, not one system call per turn; the stream buffers.
 * - Never grows without bound: while the stream holds more than `maxBufferedBytes` unwritten
 *   (nobody reads stdout), new lines are dropped and counted.
 * - A stream that fails (EPIPE when the reader has gone, as with `cron-connector | head`) is
 *   written to no more; the lines are counted as dropped, never retried.
 * - flush(timeout) resolves once the stream has written everything, or after `timeout`,
 *   whichever comes first: shutdown never waits on a reader that is gone or stuck.
 */

/** The part of a Node.js Writable the sink uses (process.stdout, or a fake in tests). */
export interface LineStream {
  write(chunk: string, callback?: (err?: Error | null) => void): boolean;
  readonly writableLength: number;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** How long a line may wait for the lines after it: unnoticeable when reading logs. */
export const FLUSH_MS = 10;
/** Written without waiting for FLUSH_MS once this much is waiting (a pipe holds 64 KiB). */
export const FLUSH_BYTES = 64 * 1024;

/** Runs the batch write: after `ms`, or on the next turn of the event loop when `ms` is 0. */
export type FlushScheduler = (write: () => void, ms: number) => void;

const defaultScheduler: FlushScheduler = (write, ms) => {
  if (ms === 0) setImmediate(write);
  else setTimeout(write, ms);
};

export class StreamSink {
  private readonly stream: LineStream;
  private readonly maxBufferedBytes: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  /** A write is scheduled for the next turn (FLUSH_BYTES reached), not only after FLUSH_MS. */
  private urgent = false;
  private broken = false;
  /** flush() has been called (shutdown): a line written after it waits for no timer. */
  private closing = false;
  private droppedLines = 0;
  private readonly schedule: FlushScheduler;
  private readonly flushLater = (): void => this.writePending();

  constructor(stream: LineStream, maxBufferedBytes = MAX_BUFFERED_BYTES, schedule: FlushScheduler = defaultScheduler) {
    this.stream = stream;
    this.maxBufferedBytes = maxBufferedBytes;
    this.schedule = schedule;
    stream.on('error', () => this.fail());
  }

  /** Lines not written: the stream failed, or would not take more. */
  get dropped(): number {
    return this.droppedLines;
  }

  write(line: string): void {
    if (this.broken || this.stream.writableLength + this.pendingBytes + line.length > this.maxBufferedBytes) {
      this.droppedLines++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flushLater, this.closing ? 0 : FLUSH_MS);
    }
    if (!this.urgent && this.pendingBytes >= FLUSH_BYTES) {
      // the timer stays armed: it finds nothing to write, or the lines after these
      this.urgent = true;
      this.schedule(this.flushLater, 0);
    }
  }

  /** Resolves when everything written so far has left the process, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.writePending();
    if (this.broken || this.stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      try {
        // the callback of an empty write runs once everything before it has been written
        this.stream.write('', done);
      } catch {
        done();
      }
    });
  }

  private writePending(): void {
    this.urgent = false;
    if (this.pending.length === 0) {
      this.scheduled = false;
      return;
    }
    this.scheduled = false;
    const text = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (this.broken) {
      this.droppedLines += countLines(text);
      return;
    }
    try {
      this.stream.write(text, (err) => {
        if (!err) return;
        this.droppedLines += countLines(text);
        this.fail();
      });
    } catch {
      this.fail();
      this.droppedLines += countLines(text);
    }
  }

  private fail(): void {
    this.broken = true;
    this.droppedLines += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
