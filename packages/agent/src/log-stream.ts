// Streams a build's log to the coordinator line by line while the build runs:
// one long PUT whose body grows as lines arrive. The coordinator appends, so
// when the request breaks (coordinator restarting) the next lines go in a new
// PUT; lines not sent when the build ends are sent with retries.
import type { AgentClient } from '@gbc/protocol';

/** A live log upload for one attempt. */
export class LogStream {
  readonly #client: AgentClient;
  readonly #build: string;
  readonly #call: <T>(fn: () => Promise<T>) => Promise<T>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #request: Promise<void> | undefined;
  #failed = false;
  readonly #unsent: Uint8Array[] = [];
  readonly #encoder = new TextEncoder();

  constructor(client: AgentClient, build: string, call: <T>(fn: () => Promise<T>) => Promise<T>) {
    this.#client = client;
    this.#build = build;
    this.#call = call;
  }

  /** Adds one line (a newline is appended). */
  line(text: string): void {
    const bytes = this.#encoder.encode(`${text}\n`);
    if (this.#failed) {
      this.#unsent.push(bytes);
      return;
    }
    this.#open();
    this.#controller?.enqueue(bytes);
  }

  #open(): void {
    if (this.#request !== undefined) return;
    const body = new ReadableStream<Uint8Array>({ start: (c) => { this.#controller = c; } });
    this.#request = this.#client.uploadLog(this.#build, body).catch(() => {
      // The coordinator went away: keep later lines for a new request.
      this.#failed = true;
      this.#controller = undefined;
    });
  }

  /** Ends the log: closes the live request, then sends any lines it missed. */
  async close(): Promise<void> {
    try {
      this.#controller?.close();
    } catch {
      // already closed by a failure
    }
    await this.#request;
    if (this.#unsent.length > 0) {
      const all = Buffer.concat(this.#unsent.splice(0));
      await this.#call(() => this.#client.uploadLog(this.#build, new Uint8Array(all)));
    }
  }
}
