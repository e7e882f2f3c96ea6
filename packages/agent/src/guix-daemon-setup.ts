// What the agent does at start once it knows its daemon is guix-daemon: it
// says so when it has no signing key (every import would be refused), and
// it sets the session options under which guix-daemon tells builder output
// from its own messages.
import type { BuildDaemon, DaemonOptions } from '@gbc/store';
import type { GuixSigning } from './guix-signing.js';
import { publicKeyFileOf } from './guix-signing.js';

/**
 * Options of every guix-daemon connection of the agent. The store client
 * asks for framed builder output with any set-options; without one, builder
 * output and daemon messages arrive mixed. Verbosity 1 adds the daemon's
 * "building path(s) …" line per build to the agent's log.
 */
export const GUIX_SESSION_OPTIONS: DaemonOptions = { verbosity: 1 };

/**
 * Returns a function that prepares the daemon once it answers, and does
 * nothing after: the agent calls it at start and before each build, so that
 * a daemon started after the agent is prepared by the first build.
 */
export function daemonPreparation(
  daemon: BuildDaemon,
  own: boolean,
  signing: GuixSigning,
  log: (message: string, fields?: Record<string, unknown>) => void,
): () => Promise<void> {
  let prepared: Promise<void> | undefined;
  return () => {
    prepared ??= prepareGuixDaemon(daemon, own, signing, log).then((answered) => {
      if (!answered) prepared = undefined;
    });
    return prepared;
  };
}

/**
 * Checks the daemon: on guix-daemon, warns through `log` when the agent has
 * no usable key, and (when the agent opened the daemon client itself, `own`)
 * sets {@link GUIX_SESSION_OPTIONS}. Returns false when the daemon did not
 * answer. Never throws.
 */
export async function prepareGuixDaemon(
  daemon: BuildDaemon,
  own: boolean,
  signing: GuixSigning,
  log: (message: string, fields?: Record<string, unknown>) => void,
): Promise<boolean> {
  let dialect;
  try {
    dialect = (await daemon.info()).dialect;
  } catch (error) {
    log('the daemon does not answer', { error: String((error as Error).message) });
    return false;
  }
  if (dialect !== 'guix') return true;
  if (signing.key === undefined) {
    log(
      'no Guix signing key: guix-daemon will refuse every input the agent imports, and builds that need one will fail',
      {
        problem: signing.problem,
        fix: `give the agent a key pair (guix archive --generate-key) with --guix-signing-key FILE, and authorize its public key: guix archive --authorize < ${publicKeyFileOf(signing.file)}`,
      },
    );
  }
  if (!own) return true;
  try {
    await daemon.setOptions(GUIX_SESSION_OPTIONS);
  } catch (error) {
    log("guix-daemon refused the agent's session options; builder output may be mixed with daemon messages", {
      error: String((error as Error).message),
    });
  }
  return true;
}
