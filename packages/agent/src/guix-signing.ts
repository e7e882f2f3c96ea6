// The agent's Guix signing key: guix-daemon imports nothing unsigned, even
// from root, so every NAR the agent imports into it is signed with a key the
// build machine's /etc/guix/acl authorizes. The key is read once at start;
// a refusal of the daemon is turned into one actionable message here.
import { readFile } from 'node:fs/promises';
import { DaemonError, parseGuixSecretKey } from '@gbc/store';
import type { GuixSecretKey } from '@gbc/store';

/** Where `guix archive --generate-key` puts the machine's key pair. */
export const DEFAULT_GUIX_SIGNING_KEY = '/etc/guix/signing-key.sec';

/** Largest key file read, in bytes (a Guix secret key is about 300). */
const MAX_KEY_BYTES = 64 * 1024;

/** The agent's signing key as read at start: the key, or why there is none. */
export interface GuixSigning {
  /** The secret key file. */
  readonly file: string;
  readonly key: GuixSecretKey | undefined;
  /** Why the key could not be had (unreadable, not a Guix secret key); undefined when `key` is set. */
  readonly problem: string | undefined;
}

/** Reads and parses the secret key in `file`; never throws (a Nix agent needs no key). */
export async function loadGuixSigning(file: string): Promise<GuixSigning> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return { file, key: undefined, problem: `cannot read ${file}: ${(error as Error).message}` };
  }
  if (bytes.length > MAX_KEY_BYTES)
    return {
      file,
      key: undefined,
      problem: `${file} is ${bytes.length} bytes, not a Guix secret key (at most ${MAX_KEY_BYTES})`,
    };
  try {
    return { file, key: parseGuixSecretKey(bytes), problem: undefined };
  } catch (error) {
    return { file, key: undefined, problem: `${file} is not a Guix secret key: ${(error as Error).message}` };
  }
}

/** The public half's file beside a secret key file (`signing-key.sec` → `signing-key.pub`). */
export function publicKeyFileOf(secretFile: string): string {
  return secretFile.endsWith('.sec') ? `${secretFile.slice(0, -4)}.pub` : `${secretFile}.pub`;
}

/** True when `error` is the daemon refusing an import for its signature (missing, unauthorized key, wrong hash). */
export function isSignatureRefusal(error: unknown): error is DaemonError {
  return error instanceof DaemonError && error.signatureRefusal !== undefined;
}

/**
 * The message for a signature refusal of the import of `path`: the daemon's
 * words and what to do about them (authorize the key, or give the agent one).
 */
export function signatureRefusalMessage(
  path: string,
  error: DaemonError,
  signing: GuixSigning | undefined,
): string {
  const said = `guix-daemon refused the import of ${path}: ${error.daemonMessage.trim()}`;
  if (signing?.key === undefined) {
    const why = signing?.problem ?? 'no signing key was given';
    return `${said}; the agent signs nothing: ${why}; give it a key pair (guix archive --generate-key) with --guix-signing-key FILE and authorize its public key on this machine`;
  }
  return `${said}; authorize the agent's key with \`guix archive --authorize < ${publicKeyFileOf(signing.file)}\` on the build machine`;
}
