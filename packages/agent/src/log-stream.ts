// Streams a build's log to the coordinator while the build runs, losing and
// repeating nothing. Every line goes to a spool file (all the log's bytes so
// far) and one long PUT streams the spool as it grows. When that request
// breaks (coordinator restarting, network drop) the agent asks how many bytes
// the coordinator holds and streams the spool again from there with ?offset=;
// the coordinator skips any bytes it already has, so lines that were in flight
// are neither lost nor stored twice. close() ends the stream, checks that the
// coordinator holds every byte (resending what it lacks) and removes the spool.
// The spool is made by the first line: a silent build has none.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '@gbc/protocol';
import { AgentError } from './errors.js';

/** Largest piece read from the spool into a request body, bytes. */
const CHUNK = 64 * 1024;

/**
 * A live log upload for one attempt. The spool is written and read
 * synchronously: a line is one small write and a read at most 64 KiB from the
 * page cache, and no read can be in flight when close() closes the file.
 */
export class LogStream {
  readonly #client: AgentClient;
  readonly #build: string;
  readonly #call: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly #spoolDir: string;
  readonly #path: string;
  readonly #encoder = new TextEncoder();
  #fd: number | undefined;
  /** Bytes of the log written to the spool. */
  #produced = 0;
  #closed = false;
  /** A spool write that failed: the log cannot be complete. */
  #spoolError: unknown;
  #upload: Promise<void> | undefined;
  /** Bodies waiting for more bytes or the end. */
  #waiting: (() => void)[] = [];

  /**
   * Creates the spool (`log-<random>.txt` in `spoolDir`); nothing is sent
   * before the first line. `call` runs each attempt with retries.
   */
  constructor(
    client: AgentClient,
    build: string,
    call: <T>(fn: () => Promise<T>) => Promise<T>,
    spoolDir: string,
  ) {
    this.#client = client;
    this.#build = build;
    this.#call = call;
    this.#spoolDir = spoolDir;
    this.#path = join(spoolDir, `log-${randomBytes(8).toString('hex')}.txt`);
  }

  /** Adds one line (a newline is appended). Lines after close() are dropped. */
  line(text: string): void {
    if (this.#closed || this.#spoolError !== undefined) return;
    const bytes = this.#encoder.encode(`${text}\n`);
    try {
      if (this.#fd === undefined) {
        mkdirSync(this.#spoolDir, { recursive: true });
        this.#fd = openSync(this.#path, 'w+');
      }
      for (let done = 0; done < bytes.length;)
        done += writeSync(this.#fd, bytes, done, bytes.length - done, this.#produced + done);
    } catch (error) {
      // Disk full or similar: the daemon's stream must not break; close() reports it.
      this.#spoolError = error;
      return;
    }
    this.#produced += bytes.length;
    if (this.#upload === undefined) {
      this.#upload = this.#stream();
      // Seen by close(); until then a failed upload must not be an unhandled rejection.
      this.#upload.catch(() => undefined);
    }
    this.#wake();
  }

  /**
   * Ends the log: the live request finishes, then the coordinator is asked how
   * much it holds and sent what it lacks. Rejects when the log could not be
   * delivered whole (attempt ended, retries given up, spool write failed).
   * The spool is removed either way.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    try {
      if (this.#upload === undefined) return;
      await this.#upload;
      await this.#call(async () => {
        const { bytesReceived } = await this.#client.logUploadProgress(this.#build);
        if (bytesReceived > this.#produced) {
          throw new AgentError(
            'log-mismatch',
            `build ${this.#build}: the coordinator holds ${bytesReceived} bytes of the log, more than the ${this.#produced} produced`,
          );
        }
        if (bytesReceived < this.#produced)
          await this.#client.uploadLog(this.#build, this.#body(bytesReceived), { offset: bytesReceived });
      });
      if (this.#spoolError !== undefined) {
        throw new AgentError(
          'log-incomplete',
          `build ${this.#build}: the log spool ${this.#path} could not be written; the log ends early`,
          { cause: this.#spoolError },
        );
      }
    } finally {
      if (this.#fd !== undefined) {
        closeSync(this.#fd);
        rmSync(this.#path, { force: true });
      }
      this.#fd = undefined;
    }
  }

  /** The live upload: from byte 0, and after a broken request from what the coordinator holds. */
  async #stream(): Promise<void> {
    let resumed = false;
    await this.#call(async () => {
      const offset = resumed ? (await this.#client.logUploadProgress(this.#build)).bytesReceived : 0;
      resumed = true;
      await this.#client.uploadLog(this.#build, this.#body(offset), { offset });
    });
  }

  /** A request body: the spool from byte `from`, following it as it grows, ending once closed and sent. */
  #body(from: number): ReadableStream<Uint8Array> {
    let position = from;
    let canceled = false;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (position >= this.#produced && !this.#closed && !canceled)
            await new Promise<void>((resolve) => this.#waiting.push(resolve));
          // A body of a broken request, or one whose spool is gone, reads nothing more.
          if (canceled) return;
          if (position >= this.#produced || this.#fd === undefined) {
            controller.close();
            return;
          }
          const chunk = Buffer.allocUnsafe(Math.min(this.#produced - position, CHUNK));
          const read = readSync(this.#fd, chunk, 0, chunk.length, position);
          if (read === 0) {
            controller.error(
              new AgentError(
                'log-incomplete',
                `build ${this.#build}: the log spool ${this.#path} ends at byte ${position}, before the ${this.#produced} written`,
              ),
            );
            return;
          }
          position += read;
          controller.enqueue(chunk.subarray(0, read));
        },
        cancel: () => {
          canceled = true;
        },
      },
      { highWaterMark: 0 },
    );
  }

  #wake(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}
