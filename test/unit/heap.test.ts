import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/schedule/heap.ts';

interface Item {
  readonly next: number;
  readonly seq: number;
}

const less = (a: Item, b: Item): boolean => a.next < b.next || (a.next === b.next && a.seq < b.seq);
const order = (a: Item, b: Item): number => a.next - b.next || a.seq - b.seq;

/** A small seeded generator (mulberry32), so a failure names its case. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('MinHeap', () => {
  it('should pop in order whatever the interleaving of pushes and pops, ties broken by the order given', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = random(seed);
      const heap = new MinHeap<Item>(less);
      const model: Item[] = [];
      let seq = 0;
      const popped: Item[] = [];
      const expected: Item[] = [];
      for (let step = 0; step < 300; step++) {
        if (rnd() < 0.6) {
          // few distinct times, so most items tie (a slot shared by many functions)
          const item = { next: Math.floor(rnd() * 5) * 1000, seq: seq++ };
          heap.push(item);
          model.push(item);
        } else {
          model.sort(order);
          expected.push(...model.splice(0, 1));
          const got = heap.pop();
          if (got !== undefined) popped.push(got);
        }
        expect(heap.size, `seed ${seed} step ${step}`).toBe(model.length);
      }
      model.sort(order);
      expected.push(...model);
      for (let got = heap.pop(); got !== undefined; got = heap.pop()) popped.push(got);
      expect(popped, `seed ${seed}`).toEqual(expected);
    }
  });

  it('should pop thousands of tied items in their order, and then nothing', () => {
    const heap = new MinHeap<Item>(less);
    for (let seq = 9_999; seq >= 0; seq--) heap.push({ next: 1000, seq });
    const seqs: number[] = [];
    for (let got = heap.pop(); got !== undefined; got = heap.pop()) seqs.push(got.seq);
    expect(seqs).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('should keep its order after filter() and count the tied top', () => {
    const rnd = random(7);
    const heap = new MinHeap<Item>(less);
    const all: Item[] = [];
    for (let seq = 0; seq < 500; seq++) {
      const item = { next: Math.floor(rnd() * 3) * 1000, seq };
      all.push(item);
      heap.push(item);
    }
    heap.filter((i) => i.seq % 3 !== 0);
    const kept = all.filter((i) => i.seq % 3 !== 0).sort(order);
    const top = kept[0] as Item;
    const tied = kept.filter((i) => i.next === top.next);
    expect(heap.countTop((i) => i.next === top.next, () => true, 10_000)).toBe(tied.length);
    expect(heap.countTop((i) => i.next === top.next, (i) => i.seq % 2 === 0, 10_000)).toBe(tied.filter((i) => i.seq % 2 === 0).length);
    expect(heap.countTop((i) => i.next === top.next, () => true, 5)).toBe(5);
    const popped: Item[] = [];
    for (let got = heap.pop(); got !== undefined; got = heap.pop()) popped.push(got);
    expect(popped).toEqual(kept);
  });
});
