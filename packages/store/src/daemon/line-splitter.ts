// Turns log text that arrives in arbitrary pieces (STDERR_NEXT) into whole lines.

/** Collects text pieces and emits complete lines (without the newline). */
export class LineSplitter {
  #partial = '';
  readonly #emit: (line: string) => void;

  /** `emit` is called once per complete line. */
  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  /** Adds a piece of text; emits every line it completes. A lone `\r` before `\n` is dropped. */
  push(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Emits the unterminated rest, if any. */
  flush(): void {
    if (this.#partial !== '') this.#emit(this.#partial);
    this.#partial = '';
  }
}

/** Longest line a ByteLineSplitter holds before it emits the piece it has (bytes). */
export const MAX_LOG_LINE = 64 << 10;

/**
 * Like LineSplitter, over raw bytes (decoded as UTF-8 once a line is whole),
 * and bounded: a line longer than `maxLine` bytes is emitted in pieces of at
 * most that size, so output without newlines never piles up.
 */
export class ByteLineSplitter {
  #partial: Buffer[] = [];
  #size = 0;
  readonly #emit: (line: string) => void;
  readonly #max: number;

  /** `emit` is called once per complete line (or piece of an overlong one). */
  constructor(emit: (line: string) => void, maxLine = MAX_LOG_LINE) {
    this.#emit = emit;
    this.#max = Math.max(1, maxLine);
  }

  /** Adds bytes; emits every line they complete. A `\r` before `\n` is dropped. */
  push(bytes: Uint8Array): void {
    let data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    for (;;) {
      const nl = data.indexOf(10);
      if (nl < 0) break;
      this.#take(data.subarray(0, nl));
      const line = Buffer.concat(this.#partial, this.#size);
      this.#partial = [];
      this.#size = 0;
      this.#emit(
        line.toString(
          'utf8',
          0,
          line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length,
        ),
      );
      data = data.subarray(nl + 1);
    }
    this.#take(data);
  }

  /** Emits the unterminated rest, if any. */
  flush(): void {
    if (this.#size > 0) this.#emit(Buffer.concat(this.#partial, this.#size).toString('utf8'));
    this.#partial = [];
    this.#size = 0;
  }

  /** Keeps `data` as part of the current line, emitting full-size pieces past the bound. */
  #take(data: Buffer): void {
    while (this.#size + data.length > this.#max) {
      const room = this.#max - this.#size;
      this.#partial.push(data.subarray(0, room));
      this.#size += room;
      this.flush();
      data = data.subarray(room);
    }
    if (data.length > 0) {
      // Copy: the bytes may be a view of a socket chunk that would otherwise stay alive.
      this.#partial.push(Buffer.from(data));
      this.#size += data.length;
    }
  }
}
