// One Unix-socket connection to a build daemon: a ByteReader over what the
// daemon sends and buffered writes, with backpressure for large uploads.
import { connect, type Socket } from 'node:net';
import { ByteReader } from '../wire/byte-reader.js';
import { DaemonProtocolError } from './errors.js';

/** Default socket of nix-daemon (guix-daemon's is /var/guix/daemon-socket/socket). */
export const DEFAULT_DAEMON_SOCKET = '/nix/var/nix/daemon-socket/socket';

/** Turns `unix:///path`, a bare path or undefined (the default socket) into a socket path. */
export function socketPathOf(address: string | undefined): string {
  if (address === undefined || address === '') return DEFAULT_DAEMON_SOCKET;
  if (address.startsWith('unix://')) {
    const path = decodeURIComponent(address.slice('unix://'.length));
    if (!path.startsWith('/')) {
      throw new DaemonProtocolError('bad-address', 'a daemon address must be an absolute socket path', {
        expected: 'unix:///absolute/path or /absolute/path',
        found: JSON.stringify(address),
      });
    }
    return path;
  }
  if (address.includes('://')) {
    throw new DaemonProtocolError('bad-address', 'only Unix-socket daemon addresses are supported', {
      expected: 'unix:///absolute/path or /absolute/path',
      found: JSON.stringify(address),
    });
  }
  return address;
}

/** A raw connection: bytes in through `reader`, bytes out through `send`/`sendAndWait`. */
export class DaemonConnection {
  /** Reads what the daemon sends. */
  readonly reader: ByteReader;
  readonly #socket: Socket;
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.reader = new ByteReader(socket as AsyncIterable<Uint8Array>);
    socket.on('close', () => {
      this.#closed = true;
    });
  }

  /** Connects to the daemon's socket; a refused or missing socket is a `connect-failed` error. */
  static open(socketPath: string): Promise<DaemonConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const onError = (cause: Error): void => {
        reject(
          new DaemonProtocolError('connect-failed', `cannot connect to the build daemon at ${socketPath}`, {
            expected: 'a running daemon listening on this socket',
            found: cause.message,
            cause,
          }),
        );
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        // Errors after connecting end the reader's iteration; keep them from crashing the process.
        socket.on('error', () => undefined);
        resolve(new DaemonConnection(socket));
      });
    });
  }

  /** True once the socket has closed (either side). */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  /** Queues bytes for the daemon (one write for all parts). */
  send(...parts: Uint8Array[]): void {
    if (this.closed) {
      throw new DaemonProtocolError('connection-closed', 'the connection to the build daemon is closed', {});
    }
    this.#socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  /** Like `send`, but waits until the socket can take more (for streaming large data). */
  async sendAndWait(...parts: Uint8Array[]): Promise<void> {
    this.send(...parts);
    if (this.#socket.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#socket.off('drain', done);
          this.#socket.off('close', done);
          resolve();
        };
        this.#socket.on('drain', done);
        this.#socket.on('close', done);
      });
    }
  }

  /** Closes the socket; the daemon ends the session (and any build it runs for us). */
  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }
}
