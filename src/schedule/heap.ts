/** A binary min-heap ordered by `less`. */
export class MinHeap<T> {
  private readonly items: T[] = [];
  private readonly less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.less = less;
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /**
   * Floyd's bottom-up removal: the hole left at the root goes down to a leaf along the smaller
   * children (one comparison a level), and the last item is put in it and sifted up, where it
   * nearly always stays (it came from the bottom). A slot shared by thousands of functions pops
   * them all at once: half the comparisons of sifting the last item down from the root, and
   * one write a level instead of a swap.
   */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    const n = items.length;
    if (top === undefined || last === undefined || n === 0) return top;
    let i = 0;
    for (let l = 1; l < n; l = 2 * i + 1) {
      const r = l + 1;
      const child = r < n && this.less(this.at(r), this.at(l)) ? r : l;
      items[i] = this.at(child);
      i = child;
    }
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = this.at(parent);
      if (!this.less(last, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = last;
    return top;
  }

  /**
   * Counts, up to `limit`, the items `counted` accepts among those `tied` to the top (equal to
   * it in order): those form a subtree at the root, so this visits O(tied) items, not the heap.
   */
  countTop(tied: (item: T) => boolean, counted: (item: T) => boolean, limit: number): number {
    let count = 0;
    const stack = this.items.length > 0 ? [0] : [];
    while (stack.length > 0 && count < limit) {
      const i = stack.pop() as number;
      const item = this.items[i];
      if (item === undefined || !tied(item)) continue;
      if (counted(item)) count++;
      stack.push(2 * i + 1, 2 * i + 2);
    }
    return count;
  }

  /** Keeps only the items `keep` accepts, in O(n). */
  filter(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep);
    this.items.length = 0;
    this.items.push(...kept);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private at(i: number): T {
    return this.items[i] as T;
  }

  private swap(i: number, j: number): void {
    const a = this.at(i);
    this.items[i] = this.at(j);
    this.items[j] = a;
  }

  private up(i: number): void {
    const item = this.at(i);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = this.at(parent);
      if (!this.less(item, above)) break;
      this.items[i] = above;
      i = parent;
    }
    this.items[i] = item;
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < n && this.less(this.at(l), this.at(smallest))) smallest = l;
      if (r < n && this.less(this.at(r), this.at(smallest))) smallest = r;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
