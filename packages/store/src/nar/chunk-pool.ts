// Buffers for the chunks a NAR writer hands out: fresh ones by default, or,
// when the consumer is done with each chunk before asking for the next,
// recycled ones, so that a long dump makes no garbage at all.

/** Hands out buffers; in reuse mode, buffers come back with `releaseAll()`. */
export class ChunkPool {
  readonly #reuse: boolean;
  readonly #free = new Map<number, Buffer[]>();
  #used: Buffer[] = [];

  /** `reuse`: recycle buffers released with `releaseAll()` (default false: always fresh). */
  constructor(reuse = false) {
    this.#reuse = reuse;
  }

  /** A buffer of `size` bytes (uninitialised). */
  readonly acquire = (size: number): Buffer => {
    if (!this.#reuse) return Buffer.allocUnsafe(size);
    const buffer = this.#free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
    this.#used.push(buffer);
    return buffer;
  };

  /** Every buffer handed out since the last call may be handed out again. */
  releaseAll(): void {
    for (const buffer of this.#used) {
      const list = this.#free.get(buffer.length);
      if (list === undefined) this.#free.set(buffer.length, [buffer]);
      else list.push(buffer);
    }
    this.#used = [];
  }
}
