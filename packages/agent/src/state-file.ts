// The agent's small state file (`<stateDir>/agent-state.json`): dynamic-auth
// credentials and finished results not yet delivered. Written atomically
// (temporary file, fsync, rename) so a crash leaves the old or the new state.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildResultRequest } from '@gbc/protocol';

/** A result the coordinator has not acknowledged yet. */
export interface PendingResult {
  readonly build: string;
  readonly result: BuildResultRequest;
}

/** What the state file holds. */
export interface AgentState {
  /** Credentials from a dynamic-auth session, reused after a restart. */
  readonly session?: { readonly agent: string; readonly password: string; readonly coordinator: string };
  readonly pendingResults: readonly PendingResult[];
}

/** Reads and writes the state file; writes are serialised. */
export class StateFile {
  readonly path: string;
  #state: AgentState = { pendingResults: [] };
  #queue: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.path = join(stateDir, 'agent-state.json');
  }

  /** Loads the file (a missing file is an empty state). */
  async load(): Promise<AgentState> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<AgentState>;
      this.#state = { ...parsed, pendingResults: Array.isArray(parsed.pendingResults) ? parsed.pendingResults : [] };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return this.#state;
  }

  /** The state as last loaded or updated. */
  get state(): AgentState {
    return this.#state;
  }

  /** Applies `change` and writes the result durably. */
  update(change: (state: AgentState) => AgentState): Promise<void> {
    const run = this.#queue.then(async () => {
      this.#state = change(this.#state);
      await writeAtomically(this.path, `${JSON.stringify(this.#state, null, 2)}\n`);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Records a result to deliver (replacing an older one for the same build). */
  addPending(pending: PendingResult): Promise<void> {
    return this.update((s) => ({ ...s, pendingResults: [...s.pendingResults.filter((p) => p.build !== pending.build), pending] }));
  }

  /** Forgets a delivered (or refused) result. */
  removePending(build: string): Promise<void> {
    return this.update((s) => ({ ...s, pendingResults: s.pendingResults.filter((p) => p.build !== build) }));
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/'));
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
