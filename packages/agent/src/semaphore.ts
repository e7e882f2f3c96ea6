// A counting semaphore: limits how many builds or uploads run at once.

/** At most `limit` holders at a time; waiters are served in order. */
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  /** Runs `fn` once a slot is free, and frees it afterwards. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiters.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}
