// Batches the bytes of a NAR being written: the many small tokens and small
// file contents go into one buffer, handed out in chunks of about `batchBytes`,
// so a consumer sees few large chunks instead of thousands of 8-byte ones.
import { padding } from '../wire/index.js';
import { TOKENS } from './nar-tokens.js';

/** Default size of the chunks a NAR is handed out in, in bytes. */
export const DEFAULT_BATCH_BYTES = 256 * 1024;

/**
 * Writes NAR nodes in pre-order. The tree's shape comes from `depth` (0 is
 * the root; an entry at depth d lives in the last directory opened at depth
 * d - 1), so callers never close directories themselves.
 */
export class NarEncoder {
  readonly #batchBytes: number;
  readonly #alloc: (size: number) => Buffer;
  /** The batch being filled; taken lazily, so that after `take(true)` the encoder holds no buffer. */
  #buf: Buffer | undefined;
  #pos = 0;
  #out: Uint8Array[] = [];
  #outBytes = 0;
  /** Depth of every directory still open (the root directory is depth 0). */
  #open: number[] = [];
  #contentLeft = 0;
  #contentSize = 0;

  /**
   * `batchBytes`: size of the chunks handed out (default 256 KiB); `alloc`:
   * where batch buffers come from (default: a fresh buffer each time).
   */
  constructor(batchBytes = DEFAULT_BATCH_BYTES, alloc = (size: number): Buffer => Buffer.allocUnsafe(size)) {
    // At least room for a u64 and a short token in one batch.
    this.#batchBytes = Math.max(64, batchBytes);
    this.#alloc = alloc;
    this.raw(TOKENS.magic);
  }

  /** Bytes ready to be taken with `take()`. */
  get pendingBytes(): number {
    return this.#outBytes + this.#pos;
  }

  /**
   * Appends bytes: small ones are copied into the batch, large ones passed on
   * as they are. True when `bytes` itself will be handed out (so it must not
   * be reused yet); false when it was copied.
   */
  raw(bytes: Uint8Array): boolean {
    if (bytes.length > this.#batchBytes - this.#pos) this.#flush();
    if (bytes.length >= this.#batchBytes / 2) {
      this.#flush();
      this.#out.push(bytes);
      this.#outBytes += bytes.length;
      return true;
    }
    this.#buf ??= this.#alloc(this.#batchBytes);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    return false;
  }

  /** A u64 little-endian integer, written straight into the batch (no allocation). */
  u64(n: number): void {
    if (8 > this.#batchBytes - this.#pos) this.#flush();
    this.#buf ??= this.#alloc(this.#batchBytes);
    this.#buf.writeUInt32LE(n % 0x1_0000_0000, this.#pos);
    this.#buf.writeUInt32LE(Math.floor(n / 0x1_0000_0000), this.#pos + 4);
    this.#pos += 8;
  }

  /** A length-prefixed, padded string. */
  string(bytes: Uint8Array): void {
    this.u64(bytes.length);
    this.raw(bytes);
    this.raw(padding(bytes.length));
  }

  /** Starts a directory node at `depth` (named `name` unless it is the root). */
  directory(depth: number, name: Uint8Array | undefined): void {
    this.#begin(depth, name);
    this.raw(TOKENS.directory);
    this.#open.push(depth);
  }

  /** A symlink node. */
  symlink(depth: number, name: Uint8Array | undefined, target: Uint8Array): void {
    this.#begin(depth, name);
    this.raw(TOKENS.symlink);
    this.raw(TOKENS.target);
    this.string(target);
    this.#endNode(depth);
  }

  /** Starts a regular file of `size` bytes; follow with `contents()` calls totalling `size`. */
  regular(depth: number, name: Uint8Array | undefined, executable: boolean, size: number): void {
    this.#begin(depth, name);
    this.raw(TOKENS.regular);
    if (executable) {
      this.raw(TOKENS.executable);
      this.raw(TOKENS.empty);
    }
    this.raw(TOKENS.contents);
    this.u64(size);
    this.#contentLeft = size;
    this.#contentSize = size;
    if (size === 0) this.#endRegular(depth);
  }

  /**
   * Appends file contents; the file ends (padding, closing tags) when all
   * `size` bytes came. True when `bytes` itself will be handed out (see `raw`).
   */
  contents(depth: number, bytes: Uint8Array): boolean {
    const kept = this.raw(bytes);
    this.#contentLeft -= bytes.length;
    if (this.#contentLeft === 0) this.#endRegular(depth);
    return kept;
  }

  /**
   * A writable view of `n` bytes inside the batch, for reading small file
   * contents straight into it; call `commit(depth, n)` once it is filled.
   */
  reserve(n: number): Buffer | undefined {
    if (n > this.#batchBytes / 4) return undefined;
    if (n > this.#batchBytes - this.#pos) this.#flush();
    this.#buf ??= this.#alloc(this.#batchBytes);
    return this.#buf.subarray(this.#pos, this.#pos + n);
  }

  /** Marks `n` reserved bytes as written contents. */
  commit(depth: number, n: number): void {
    this.#pos += n;
    this.#contentLeft -= n;
    if (this.#contentLeft === 0) this.#endRegular(depth);
  }

  /** Closes every directory still open: the NAR is complete. */
  finish(): void {
    this.#closeTo(0);
  }

  /** Hands out what is ready; with `all`, also the partly filled batch. */
  take(all = false): Uint8Array[] {
    if (all || this.#pos >= this.#batchBytes / 2) this.#flush();
    const out = this.#out;
    this.#out = [];
    this.#outBytes = 0;
    return out;
  }

  #begin(depth: number, name: Uint8Array | undefined): void {
    this.#closeTo(depth);
    if (depth > 0 && name !== undefined) {
      this.raw(TOKENS.entry);
      this.raw(TOKENS.open);
      this.raw(TOKENS.name);
      this.string(name);
      this.raw(TOKENS.node);
    }
    this.raw(TOKENS.open);
    this.raw(TOKENS.type);
  }

  /** Closes open directories deeper than or at `depth` (each is a node, then an entry unless root). */
  #closeTo(depth: number): void {
    while (this.#open.length > 0 && this.#open[this.#open.length - 1]! >= depth) {
      const d = this.#open.pop()!;
      this.#endNode(d);
    }
  }

  #endRegular(depth: number): void {
    this.raw(padding(this.#contentSize));
    this.#endNode(depth);
  }

  /** Closes a node, and the entry around it unless it is the root. */
  #endNode(depth: number): void {
    this.raw(TOKENS.close);
    if (depth > 0) this.raw(TOKENS.close);
  }

  #flush(): void {
    if (this.#buf === undefined || this.#pos === 0) return;
    this.#out.push(this.#buf.subarray(0, this.#pos));
    this.#outBytes += this.#pos;
    this.#buf = undefined;
    this.#pos = 0;
  }
}
