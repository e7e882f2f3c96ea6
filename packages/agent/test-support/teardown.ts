// Test support (not exported): what a test file opened, closed at its end in
// reverse order. Only what did open is registered, so a set-up that failed
// half-way closes the half that opened and nothing else.

/** Closers of what a test file opened. */
export class Teardown {
  readonly #closers: (() => Promise<void> | void)[] = [];

  /** Waits for `opening`, registers `close` for what it gives, and returns that. */
  async add<T>(opening: Promise<T>, close: (opened: T) => Promise<void> | void): Promise<T> {
    const opened = await opening;
    this.#closers.push(() => close(opened));
    return opened;
  }

  /** Registers `close` for something opened already. */
  defer(close: () => Promise<void> | void): void {
    this.#closers.push(close);
  }

  /** Closes everything registered, the last first; every closer runs even when one fails. */
  async run(): Promise<void> {
    const failures: unknown[] = [];
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'closing what the tests opened failed');
  }
}
