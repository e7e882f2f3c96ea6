// The agent's small state file (`<stateDir>/agent-state.json`): dynamic-auth
// credentials and finished results not yet delivered. Written atomically
// (temporary file, fsync, rename) so a crash leaves the old or the new state.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
  /** The write not yet started, which every update until it starts joins. */
  #next: Promise<void> | undefined;
  #dirMade = false;
  /** Whether the next write must be synced. */
  #durable = false;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'agent-state.json');
  }

  /** Loads the file (a missing file is an empty state). */
  async load(): Promise<AgentState> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<AgentState>;
      this.#state = {
        ...parsed,
        pendingResults: Array.isArray(parsed.pendingResults) ? parsed.pendingResults : [],
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return this.#state;
  }

  /** The state as last loaded or updated. */
  get state(): AgentState {
    return this.#state;
  }

  /**
   * Applies `change` now and resolves once a write holding it is done:
   * durable (synced) unless every update it holds said `durable: false`.
   * Writes are serialised; the updates made while one is under way share the
   * next (builds finishing together cost one write, not one each).
   */
  update(change: (state: AgentState) => AgentState, durable = true): Promise<void> {
    this.#state = change(this.#state);
    this.#durable ||= durable;
    if (this.#next === undefined) {
      const run = this.#queue.then(async () => {
        this.#next = undefined;
        const flush = this.#durable;
        this.#durable = false;
        if (!this.#dirMade) {
          await mkdir(dirname(this.path), { recursive: true });
          this.#dirMade = true;
        }
        await writeAtomically(this.path, `${JSON.stringify(this.#state, null, 2)}\n`, flush);
      });
      this.#next = run;
      this.#queue = run.catch(() => undefined);
    }
    return this.#next;
  }

  /** Records a result to deliver (replacing an older one for the same build). */
  addPending(pending: PendingResult): Promise<void> {
    return this.update((s) => ({
      ...s,
      pendingResults: [...s.pendingResults.filter((p) => p.build !== pending.build), pending],
    }));
  }

  /** Forgets a delivered (or refused) result. */
  removePending(build: string): Promise<void> {
    // Not synced: a removal lost to a crash only resends a result the coordinator then refuses as known.
    return this.update(
      (s) => ({ ...s, pendingResults: s.pendingResults.filter((p) => p.build !== build) }),
      false,
    );
  }
}

/** Writes `text` to a temporary file, syncs it when `sync`, and renames it over `path`. */
async function writeAtomically(path: string, text: string, sync: boolean): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600, flush: sync });
  await rename(tmp, path);
}
