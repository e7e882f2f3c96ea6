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
