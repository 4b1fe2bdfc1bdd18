import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { StreamSink, type LineStream } from '../../src/log-sink.ts';

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

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('log sink', () => {
  it('should hand the lines of one event-loop turn to the stream in one write', async () => {
    const stream = new FakeStream();
    const sink = new StreamSink(stream);
    for (let i = 0; i < 1000; i++) sink.write(`line ${i}\n`);
    expect(stream.chunks).toEqual([]);
    await turn();
    expect(stream.chunks.length).toBe(1);
    expect(stream.chunks[0]?.split('\n').length).toBe(1001);
  });

  it('should write nothing more, and count what it drops, once the reader has gone (EPIPE)', async () => {
    const stream = new FakeStream();
    const sink = new StreamSink(stream);
    sink.write('a\n');
    await turn();
    stream.breakPipe();
    sink.write('b\n');
    sink.write('c\n');
    await turn();
    expect(stream.chunks).toEqual(['a\n']);
    // 'a' was handed to the stream but never written (its callback failed): lost too
    expect(sink.dropped).toBe(3);
  });

  it('should end a flush at once when the reader has gone, and after the timeout when it is stuck', async () => {
    const gone = new FakeStream();
    const goneSink = new StreamSink(gone);
    goneSink.write('a\n');
    await turn();
    gone.breakPipe();
    await expect(goneSink.flush(60_000)).resolves.toBeUndefined();

    const stuck = new FakeStream();
    const stuckSink = new StreamSink(stuck);
    stuckSink.write('a\n');
    let flushed = false;
    const flushing = stuckSink.flush(20).then(() => (flushed = true));
    await turn();
    expect(flushed).toBe(false);
    await flushing;
    expect(flushed).toBe(true);
    expect(stuck.chunks).toEqual(['a\n', '']);
  });

  it('should resolve a flush once the stream has written everything before it', async () => {
    const stream = new FakeStream();
    const sink = new StreamSink(stream);
    sink.write('last words\n');
    let flushed = false;
    const flushing = sink.flush(60_000).then(() => (flushed = true));
    await turn();
    expect([flushed, stream.chunks]).toEqual([false, ['last words\n', '']]);
    stream.drain();
    await flushing;
    expect(flushed).toBe(true);
  });

  it('should drop and count lines instead of buffering without bound while nobody reads', async () => {
    const stream = new FakeStream();
    const sink = new StreamSink(stream, 100);
    for (let i = 0; i < 20; i++) sink.write('0123456789\n');
    await turn();
    expect(stream.chunks.join('').length).toBeLessThanOrEqual(100);
    expect(sink.dropped).toBe(20 - stream.chunks.join('').split('\n').length + 1);
    stream.drain();
    sink.write('after\n');
    await turn();
    expect(stream.chunks.at(-1)).toBe('after\n');
  });
});
