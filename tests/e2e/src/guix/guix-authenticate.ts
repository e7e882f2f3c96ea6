// The real `guix authenticate` (from $GBC_GUIX_DIR), spoken to as
// guix-daemon does: one line per request on its standard input (`verify
// <len>:<signature s-expression>`), one reply `<code> <len>:<text>` on its
// standard output; 0 with the signed hash in base16 on success, 500 with
// Guix's reason otherwise. Also makes a Guix key pair with Guix's own code.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GENERATE_KEY = fileURLToPath(new URL('./generate-key.scm', import.meta.url));

/** One reply of `guix authenticate`. */
export interface AuthenticateReply {
  /** 0 on success, 500 when the command failed, 404 for an unknown command. */
  readonly code: number;
  /** The signed hash in base16 (verify's success), or Guix's message. */
  readonly text: string;
}

/** A running `guix authenticate`. */
export interface GuixAuthenticate {
  /** Checks a signature s-expression against the ACL of the configuration directory it runs with. */
  verify(signature: Uint8Array): Promise<AuthenticateReply>;
  /** Closes its standard input and waits for it to exit; its exit code. */
  close(): Promise<number>;
}

/** `$guixDir/scheme/bin/guix`. */
export function guixProgram(guixDir: string): string {
  return join(guixDir, 'scheme', 'bin', 'guix');
}

/**
 * Makes a key pair in `configDir` with guile-gcrypt (signing-key.pub,
 * signing-key.sec) and an `acl` there that authorizes it, as Guix writes them.
 */
export function generateGuixKeyPair(
  guixDir: string,
  configDir: string,
): { secretKeyFile: string; publicKeyFile: string; aclFile: string } {
  mkdirSync(configDir, { recursive: true });
  const scheme = join(guixDir, 'scheme');
  execFileSync('guile', ['--no-auto-compile', '-L', scheme, '-C', scheme, GENERATE_KEY], {
    env: { ...process.env, GUIX_CONFIGURATION_DIRECTORY: configDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return {
    secretKeyFile: join(configDir, 'signing-key.sec'),
    publicKeyFile: join(configDir, 'signing-key.pub'),
    aclFile: join(configDir, 'acl'),
  };
}

/** Starts `guix authenticate` reading its ACL from `configDir` (GUIX_CONFIGURATION_DIRECTORY). */
export function startGuixAuthenticate(guixDir: string, configDir: string): GuixAuthenticate {
  const child = spawn(guixProgram(guixDir), ['authenticate'], {
    env: { ...process.env, GUIX_CONFIGURATION_DIRECTORY: configDir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  let stderr = '';
  child.stderr.setEncoding('latin1').on('data', (c: string) => (stderr += c));
  const replies = replyReader(child, () => stderr);
  // One request at a time, as the daemon does: each waits for the reply before the next is written.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    verify(signature) {
      const request = Buffer.concat([
        Buffer.from(`verify ${signature.length}:`, 'latin1'),
        signature,
        Buffer.from('\n'),
      ]);
      const reply = queue.then(() => {
        const next = replies.next();
        child.stdin.write(request);
        return next;
      });
      queue = reply.catch(() => undefined);
      return reply;
    },
    async close() {
      child.stdin.end();
      return exited;
    },
  };
}

/** Parses replies (`<code> <len>:<bytes>`) from the child's standard output, in order. */
function replyReader(
  child: ChildProcessWithoutNullStreams,
  stderr: () => string,
): { next(): Promise<AuthenticateReply> } {
  let buffer = Buffer.alloc(0);
  const waiting: Array<{ resolve(r: AuthenticateReply): void; reject(e: Error): void }> = [];
  let gone: Error | undefined;
  const drain = (): void => {
    for (;;) {
      const head = /^(\d+) (\d+):/.exec(buffer.subarray(0, 32).toString('latin1'));
      if (head === null || waiting.length === 0) return;
      const start = head[0].length;
      const end = start + Number(head[2]);
      if (buffer.length < end) return;
      waiting
        .shift()!
        .resolve({ code: Number(head[1]), text: buffer.subarray(start, end).toString('latin1') });
      buffer = buffer.subarray(end);
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    drain();
  });
  child.once('exit', (code) => {
    gone = new Error(`guix authenticate exited (${code}) before replying: ${stderr().slice(-1000)}`);
    for (const w of waiting.splice(0)) w.reject(gone);
  });
  return {
    next: () =>
      new Promise<AuthenticateReply>((resolve, reject) => {
        if (gone !== undefined) return reject(gone);
        waiting.push({ resolve, reject });
        drain();
      }),
  };
}
