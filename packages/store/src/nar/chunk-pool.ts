// Buffers for the chunks a NAR writer hands out. A chunk belongs to its
// consumer; a consumer that is done with one may hand it back (`release`),
// and only handed-back buffers are used again, so a consumer that keeps
// chunks (zlib, a socket's queue) is always safe, and one that releases them
// makes a long dump allocate almost nothing: memory stays flat instead of
// waiting for the GC (V8 lets ~64 MB of dropped buffers pile up).

/** Most free buffers of one size kept for reuse; more released ones are left to the GC. */
const MAX_FREE_PER_SIZE = 8;

/** Marks a buffer's memory as handed out by a pool and not yet released. */
const OWNER = Symbol('gbc.chunkPool.owner');
type Owned = ArrayBufferLike & { [OWNER]?: ChunkPool | undefined };

/** Hands out buffers and takes back the ones their consumer released. */
export class ChunkPool {
  readonly #free = new Map<number, Buffer[]>();
  /** Every buffer handed out since the last `releaseAll()` (only in `trackAll` mode). */
  #all: Buffer[] = [];
  readonly #trackAll: boolean;

  /** `trackAll`: remember every buffer handed out, for `releaseAll()` (default false). */
  constructor(trackAll = false) {
    this.#trackAll = trackAll;
  }

  /** A buffer of `size` bytes (uninitialised) that owns its whole memory. */
  readonly acquire = (size: number): Buffer => {
    const buffer = this.#free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
    // A mark on the memory itself, not a table in the pool: the pool holds no
    // reference to what it handed out (a WeakMap keyed by ArrayBuffers was
    // measured to keep dropped chunks alive until a full GC: 3× the memory).
    (buffer.buffer as Owned)[OWNER] = this;
    if (this.#trackAll) this.#all.push(buffer);
    return buffer;
  };

  /**
   * Takes back the buffer under `chunk` (any view of it), which may then be
   * handed out again. Chunks that did not come from this pool, or were
   * already released, are ignored.
   */
  readonly release = (chunk: Uint8Array): void => {
    const memory = chunk.buffer as Owned;
    if (memory[OWNER] !== this) return;
    memory[OWNER] = undefined;
    const buffer = Buffer.from(memory);
    const list = this.#free.get(buffer.length);
    if (list === undefined) this.#free.set(buffer.length, [buffer]);
    else if (list.length < MAX_FREE_PER_SIZE) list.push(buffer);
  };

  /** Takes back every buffer handed out since the last call (only in `trackAll` mode). */
  releaseAll(): void {
    for (const buffer of this.#all) this.release(buffer);
    this.#all = [];
  }
}
