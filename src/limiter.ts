/** A FIFO concurrency limit: at most `max` tasks run at once; the rest wait their turn, none is dropped. */
export class Limiter {
  private readonly max: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(max: number) {
    this.max = max;
  }

  get inflight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<R>(task: () => Promise<R>): Promise<R> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const nextTask = this.waiting.shift();
      if (nextTask === undefined) this.active--;
      else nextTask();
    }
  }
}
