import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FLUSH_BYTES, FLUSH_MS, MAX_BUFFERED_BYTES, StreamSink, type FlushScheduler, type LineStream } from '../../src/log-sink.ts';

/** A stream that keeps what it is given and calls back only when told to (a slow or gone reader). */
class FakeStream extends EventEmitter implements LineStream {
  readonly chunks: string[] = [];
  private callbacks: Array<(err?: Error | null) => void> = [];
  writableLength = 0;

  write(chunk: string, callback?: (err?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    this.writableLength += chunk.length;
    if (callback !== undefined) this.callbacks.push(callback);
    return false;
  }

  /** The reader took everything. */
  drain(): void {
    this.writableLength = 0;
    for (const cb of this.callbacks.splice(0)) cb();
  }

  /** The reader went away: EPIPE, as Node reports it. */
  breakPipe(): void {
    const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    for (const cb of this.callbacks.splice(0)) cb(err);
    this.emit('error', err);
  }
}

/** The sink's batch writes, run when the test says (no timers). */
class ManualFlush {
  readonly calls: Array<{ readonly write: () => void; readonly ms: number }> = [];
  readonly schedule: FlushScheduler = (write, ms) => {
    this.calls.push({ write, ms });
  };

  /** Delays asked for so far. */
  get delays(): number[] {
    return this.calls.map((c) => c.ms);
  }

  /** Runs every scheduled write. */
  run(): void {
    for (const c of this.calls.splice(0)) c.write();
  }
}

function sinkOn(stream: LineStream, maxBufferedBytes?: number): { sink: StreamSink; flush: ManualFlush } {
  const flush = new ManualFlush();
  return { sink: new StreamSink(stream, maxBufferedBytes ?? MAX_BUFFERED_BYTES, flush.schedule), flush };
}

describe('log sink', () => {
  it('should hand the lines of FLUSH_MS to the stream in one write', () => {
    const stream = new FakeStream();
    const { sink, flush } = sinkOn(stream);
    for (let i = 0; i < 1000; i++) sink.write(`line ${i}\n`);
    expect(stream.chunks).toEqual([]);
    expect(flush.delays).toEqual([FLUSH_MS]);
    flush.run();
    expect(stream.chunks.length).toBe(1);
    expect(stream.chunks[0]?.split('\n').length).toBe(1001);
    sink.write('next\n');
    expect(flush.delays).toEqual([FLUSH_MS]);
  });

  it('should write a line logged after a flush began on the next turn, not after FLUSH_MS', async () => {
    const stream = new FakeStream();
    const { sink, flush } = sinkOn(stream);
    sink.write('before\n');
    expect(flush.delays).toEqual([FLUSH_MS]);
    const flushing = sink.flush(60_000);
    expect(stream.chunks).toEqual(['before\n', '']);
    flush.run();
    sink.write('Stopped\n');
    expect(flush.delays).toEqual([0]);
    flush.run();
    expect(stream.chunks.at(-1)).toBe('Stopped\n');
    stream.drain();
    await flushing;
  });

  it('should write on the next turn, without waiting for FLUSH_MS, once FLUSH_BYTES are waiting', () => {
    const stream = new FakeStream();
    const { sink, flush } = sinkOn(stream);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < FLUSH_BYTES / 1024 - 1; i++) sink.write(line);
    expect(flush.delays).toEqual([FLUSH_MS]);
    sink.write(line);
    sink.write(line);
    expect(flush.delays).toEqual([FLUSH_MS, 0]);
    flush.run();
    expect(stream.chunks).toHaveLength(1);
    expect(stream.chunks[0]?.length).toBe(FLUSH_BYTES + 1024);
  });

  it('should write nothing more, and count what it drops, once the reader has gone (EPIPE)', () => {
    const stream = new FakeStream();
    const { sink, flush } = sinkOn(stream);
    sink.write('a\n');
    flush.run();
    stream.breakPipe();
    sink.write('b\n');
    sink.write('c\n');
    flush.run();
    expect(stream.chunks).toEqual(['a\n']);
    // 'a' was handed to the stream but never written (its callback failed): lost too
    expect(sink.dropped).toBe(3);
  });

  it('should end a flush at once when the reader has gone, and after the timeout when it is stuck', async () => {
    const gone = new FakeStream();
    const { sink: goneSink, flush: goneFlush } = sinkOn(gone);
    goneSink.write('a\n');
    goneFlush.run();
    gone.breakPipe();
    await expect(goneSink.flush(60_000)).resolves.toBeUndefined();

    const stuck = new FakeStream();
    const { sink: stuckSink } = sinkOn(stuck);
    stuckSink.write('a\n');
    let flushed = false;
    const flushing = stuckSink.flush(20).then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    await flushing;
    expect(flushed).toBe(true);
    expect(stuck.chunks).toEqual(['a\n', '']);
  });

  it('should resolve a flush once the stream has written everything before it', async () => {
    const stream = new FakeStream();
    const { sink } = sinkOn(stream);
    sink.write('last words\n');
    let flushed = false;
    const flushing = sink.flush(60_000).then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect([flushed, stream.chunks]).toEqual([false, ['last words\n', '']]);
    stream.drain();
    await flushing;
    expect(flushed).toBe(true);
  });

  it('should drop and count lines instead of buffering without bound while nobody reads', () => {
    const stream = new FakeStream();
    const { sink, flush } = sinkOn(stream, 100);
    for (let i = 0; i < 20; i++) sink.write('0123456789\n');
    flush.run();
    expect(stream.chunks.join('').length).toBeLessThanOrEqual(100);
    expect(sink.dropped).toBe(20 - stream.chunks.join('').split('\n').length + 1);
    stream.drain();
    sink.write('after\n');
    flush.run();
    expect(stream.chunks.at(-1)).toBe('after\n');
  });
});
