// The real `guix publish` ($GBC_GUIX_DIR/scheme/bin/guix) serving a
// guix-daemon's store over loopback HTTP, signing with a given key pair: the
// reference a Guix narinfo from gbc's cache is compared with, byte for byte.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { guixProgram } from '../guix/guix-authenticate.js';

/** A running `guix publish`. */
export interface GuixPublish {
  readonly url: string;
  readonly logFile: string;
  /** The narinfo text it serves for `storePath` (throws unless 200). */
  narinfo(storePath: string): Promise<string>;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Starts `guix publish --listen=127.0.0.1 --port=P --public-key=… --private-key=…`
 * against the daemon at `socket` (GUIX_DAEMON_SOCKET), logging into `dir`;
 * resolves once it answers `/nix-cache-info`.
 */
export async function startGuixPublish(
  guixDir: string,
  socket: string,
  keys: { publicKeyFile: string; secretKeyFile: string },
  dir: string,
): Promise<GuixPublish> {
  const port = await freePort();
  const logFile = join(dir, `guix-publish-${port}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(
    guixProgram(guixDir),
    [
      'publish',
      '--listen=127.0.0.1',
      `--port=${port}`,
      `--public-key=${keys.publicKeyFile}`,
      `--private-key=${keys.secretKeyFile}`,
    ],
    {
      env: { ...process.env, GUIX_DAEMON_SOCKET: socket.replace(/^unix:\/\//, '') },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`guix publish exited ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    const up = await fetch(`${url}/nix-cache-info`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i === 300) {
      await stop();
      throw new Error(`guix publish did not answer on ${url}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    logFile,
    stop,
    async narinfo(storePath) {
      const hash = storePath.slice(storePath.lastIndexOf('/') + 1).slice(0, 32);
      const res = await fetch(`${url}/${hash}.narinfo`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`guix publish: GET ${hash}.narinfo: ${res.status} ${text}`);
      return text;
    },
  };
}
