import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/fifo.ts';

describe('Fifo', () => {
  it('should give items back in the order they were pushed, and undefined when empty', () => {
    const q = new Fifo<number>();
    expect(q.shift()).toBeUndefined();
    q.push(1);
    q.push(2);
    expect(q.length).toBe(2);
    expect(q.shift()).toBe(1);
    q.push(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([2, 3, undefined]);
    expect(q.length).toBe(0);
  });

  it('should keep the order across compactions while pushing and shifting 10,000 items', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 150; i++) q.push(next++);
      for (let i = 0; i < 100; i++) out.push(q.shift() as number);
    }
    while (q.length > 0) out.push(q.shift() as number);
    expect(out).toEqual(Array.from({ length: 15_000 }, (_, i) => i));
  });
});
