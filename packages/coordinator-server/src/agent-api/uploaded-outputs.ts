// Outputs uploaded for an attempt but not yet recorded: each verified NAR
// upload leaves a small JSON note under `<scratch>/uploaded/<build>/<output>.json`
// (it survives restarts); a successful result turns the notes into output
// metadata in the same transaction as the result, then removes them.
//
// The files are the record; the notes written by this process are also kept
// in memory, so that the result reads none back and removes exactly the files
// it knows of (one upload and one result per build of a farm: a handful of
// file-system calls each saved count at thousands of builds a minute).
//
// A coordinator killed between a result's commit and the removal of its notes
// leaves them behind; at start, `sweepUploadedNotes` removes the notes of
// every build that is no longer queued, allocated or started.
import { mkdir, readdir, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, OutputMetadataInput } from '@gbc/datastore';

/** What an upload left for the result. */
export interface UploadedOutput {
  readonly output: string;
  readonly metadata: OutputMetadataInput;
}

/** The notes of one coordinator. */
export interface UploadedOutputs {
  save(buildId: string, output: UploadedOutput): Promise<void>;
  /** The note of an output, or undefined. */
  load(buildId: string, output: string): Promise<UploadedOutput | undefined>;
  /** Removes every note of a build. */
  clear(buildId: string): Promise<void>;
}

/** Builds whose notes are held in memory at most; older ones are read from their files again. */
const MEMORY_LIMIT = 4096;

/** Notes kept under `scratchDir`. */
export function createUploadedOutputs(scratchDir: string): UploadedOutputs {
  const dir = (buildId: string) => join(scratchDir, 'uploaded', buildId);
  const file = (buildId: string, output: string) => join(dir(buildId), `${output}.json`);
  // Build → its notes written by this process (its directory exists and holds at least these).
  // Insertion order is age: the oldest build goes first when the limit is passed.
  const known = new Map<string, Map<string, UploadedOutput>>();

  return {
    async save(buildId, output) {
      if (!known.has(buildId)) await mkdir(dir(buildId), { recursive: true });
      const path = file(buildId, output.output);
      await writeFile(`${path}.tmp`, JSON.stringify(output));
      await rename(`${path}.tmp`, path);
      let notes = known.get(buildId);
      if (notes === undefined) {
        notes = new Map();
        known.set(buildId, notes);
        if (known.size > MEMORY_LIMIT) known.delete(known.keys().next().value!);
      }
      notes.set(output.output, output);
    },

    async load(buildId, output) {
      const held = known.get(buildId)?.get(output);
      if (held !== undefined) return held;
      // Written before a restart, or by an attempt whose entry was dropped from memory.
      try {
        return JSON.parse(await readFile(file(buildId, output), 'utf8')) as UploadedOutput;
      } catch {
        return undefined;
      }
    },

    async clear(buildId) {
      const notes = known.get(buildId);
      known.delete(buildId);
      if (notes !== undefined) {
        await Promise.all(
          [...notes.keys()].map((output) => unlink(file(buildId, output)).catch(() => undefined)),
        );
        // Empty unless notes from before a restart are there too: then the whole directory goes.
        if (
          await rmdir(dir(buildId)).then(
            () => true,
            () => false,
          )
        )
          return;
      }
      await rm(dir(buildId), { recursive: true, force: true });
    },
  };
}

/**
 * Removes the notes of builds that are over (succeeded, failed, canceled) or
 * unknown: left by a coordinator killed after recording a result and before
 * removing its notes. Returns how many builds' notes went.
 */
export async function sweepUploadedNotes(scratchDir: string, db: Db): Promise<number> {
  const root = join(scratchDir, 'uploaded');
  const builds = await readdir(root).catch(() => [] as string[]);
  let removed = 0;
  for (let i = 0; i < builds.length; i += 500) {
    const batch = builds.slice(i, i + 500);
    const live = new Set(
      (
        await db
          .selectFrom('builds')
          .select('uuid')
          .where('uuid', 'in', batch)
          .where('state', 'in', ['queued', 'allocated', 'started'])
          .execute()
      ).map((b) => b.uuid),
    );
    for (const build of batch) {
      if (live.has(build)) continue;
      await rm(join(root, build), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
