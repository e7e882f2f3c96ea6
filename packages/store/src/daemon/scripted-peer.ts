// Test support (not exported): a Unix-socket server that plays the daemon's
// side of a byte-level transcript and checks every byte the client sends.
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { ByteReader } from '../wire/byte-reader.js';
import { encodeBytes, encodeU64 } from '../wire/byte-writer.js';
import { Stderr } from './constants.js';

/** One step of a transcript. */
export type PeerStep =
  /** The client must send exactly these bytes next. */
  | { readonly expect: Uint8Array; readonly what: string }
  /** The peer sends these bytes. */
  | { readonly send: Uint8Array }
  /** The peer pulls `data` through STDERR_READ requests of `chunk` bytes, as guix-daemon's TunnelSource does. */
  | { readonly tunnelRead: Uint8Array; readonly chunk: number; readonly what: string };

/** A scripted daemon: one transcript per accepted connection, in order. */
export class ScriptedPeer {
  readonly socket: string;
  /** Mismatches and surprises, in order; empty when the client followed every script. */
  readonly problems: string[] = [];
  readonly #server: Server;
  readonly #scripts: PeerStep[][];
  readonly #running: Promise<void>[] = [];
  #connections = 0;

  private constructor(socket: string, scripts: PeerStep[][]) {
    this.socket = socket;
    this.#scripts = scripts;
    this.#server = createServer((conn) => {
      const script = this.#scripts[this.#connections++];
      if (script === undefined) {
        this.problems.push(`unexpected connection #${this.#connections}`);
        conn.destroy();
        return;
      }
      this.#running.push(this.#play(conn, script, this.#connections));
    });
  }

  /** Listens on `dir/peer.sock`. */
  static async start(dir: string, scripts: PeerStep[][]): Promise<ScriptedPeer> {
    const peer = new ScriptedPeer(join(dir, 'peer.sock'), scripts);
    await new Promise<void>((resolve) => peer.#server.listen(peer.socket, resolve));
    return peer;
  }

  async #play(conn: Socket, script: PeerStep[], n: number): Promise<void> {
    conn.on('error', () => undefined);
    const reader = new ByteReader(conn as AsyncIterable<Uint8Array>);
    try {
      for (const [i, step] of script.entries()) {
        if ('send' in step) conn.write(step.send);
        else if ('expect' in step) {
          const got = await reader.readExact(step.expect.length, step.what);
          const diff = firstDifference(got, step.expect);
          if (diff >= 0)
            throw new Error(
              `step ${i} (${step.what}): byte ${diff} differs: ${hexAround(got, diff)} instead of ${hexAround(step.expect, diff)}`,
            );
        } else {
          const received: Uint8Array[] = [];
          let have = 0;
          while (have < step.tunnelRead.length) {
            conn.write(Buffer.concat([encodeU64(Stderr.Read), encodeU64(step.chunk)]));
            const part = await reader.readBytes(step.chunk, `${step.what} (answer to STDERR_READ)`);
            if (part.length === 0)
              throw new Error(`step ${i} (${step.what}): the client sent no data after ${have} bytes`);
            received.push(part);
            have += part.length;
          }
          const all = Buffer.concat(received);
          const diff = firstDifference(all, step.tunnelRead);
          if (diff >= 0)
            throw new Error(
              `step ${i} (${step.what}): byte ${diff} differs: ${hexAround(all, diff)} instead of ${hexAround(step.tunnelRead, diff)}`,
            );
        }
      }
      if (!(await reader.atEnd()))
        this.problems.push(`connection ${n}: the client sent bytes after the script ended`);
    } catch (error) {
      this.problems.push(`connection ${n}: ${(error as Error).message}`);
      conn.destroy();
    }
  }

  /** Scripts not yet started. */
  get unplayed(): number {
    return this.#scripts.length - this.#connections;
  }

  /** Waits for every connection's script to end (the client must close its connections first). */
  async finished(): Promise<void> {
    await Promise.all(this.#running);
  }

  /** Stops listening. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function hexAround(bytes: Uint8Array, at: number): string {
  return Buffer.from(bytes.subarray(Math.max(0, at - 8), at + 16)).toString('hex');
}

/** Byte builders for transcripts. */
export const wire = {
  u64: encodeU64,
  str: (s: string | Uint8Array): Uint8Array => encodeBytes(s),
  strs: (items: readonly (string | Uint8Array)[]): Uint8Array =>
    Buffer.concat([encodeU64(items.length), ...items.map((s) => encodeBytes(s))]),
  cat: (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts),
};
