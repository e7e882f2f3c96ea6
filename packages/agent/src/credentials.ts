// Turns the authentication options into AgentClient credentials: a password
// (given or read from a file), or a dynamic-auth token (given or from a file)
// whose session credentials are kept in the state file and reused.
import { readFile } from 'node:fs/promises';
import type { AgentCredentials } from '@gbc/protocol';
import { AgentError } from './errors.js';
import type { AgentAuthOptions } from './options.js';
import type { StateFile } from './state-file.js';

/** The credentials to try first, and the token credentials to fall back on. */
export interface ResolvedCredentials {
  readonly primary: AgentCredentials;
  /** Set when `primary` is a stored session: the token that can open a new one. */
  readonly fallback?: AgentCredentials;
}

async function secretFrom(
  value: string | undefined,
  file: string | undefined,
  what: string,
): Promise<string | undefined> {
  if (value !== undefined) return value;
  if (file === undefined) return undefined;
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new AgentError('credentials', `cannot read the ${what} file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Resolves credentials; a stored session for the same coordinator and name comes first. */
export async function resolveCredentials(
  auth: AgentAuthOptions,
  state: StateFile,
  coordinatorUrl: string,
): Promise<ResolvedCredentials> {
  const password = await secretFrom(auth.password, auth.passwordFile, 'password');
  if (password !== undefined && auth.uuid !== undefined) return { primary: { agent: auth.uuid, password } };
  const token = await secretFrom(auth.token, auth.tokenFile, 'token');
  if (token === undefined || auth.name === undefined)
    throw new AgentError(
      'credentials',
      'no credentials: give uuid and password (or password file), or name and token (or token file)',
    );
  const tokenCreds: AgentCredentials =
    auth.description === undefined
      ? { name: auth.name, token }
      : { name: auth.name, token, description: auth.description };
  const stored = state.state.session;
  if (stored !== undefined && stored.coordinator === coordinatorUrl)
    return { primary: { agent: stored.agent, password: stored.password }, fallback: tokenCreds };
  return { primary: tokenCreds };
}
