// Outputs uploaded for an attempt but not yet recorded: each verified NAR
// upload leaves a small JSON note under `<scratch>/uploaded/<build>/<output>.json`
// (it survives restarts); a successful result turns the notes into output
// metadata in the same transaction as the result, then removes them.
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutputMetadataInput } from '@gbc/datastore';

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

/** Notes kept under `scratchDir`. */
export function createUploadedOutputs(scratchDir: string): UploadedOutputs {
  const dir = (buildId: string) => join(scratchDir, 'uploaded', buildId);
  return {
    async save(buildId, output) {
      await mkdir(dir(buildId), { recursive: true });
      const file = join(dir(buildId), `${output.output}.json`);
      await writeFile(`${file}.tmp`, JSON.stringify(output));
      await rename(`${file}.tmp`, file);
    },
    async load(buildId, output) {
      try {
        return JSON.parse(await readFile(join(dir(buildId), `${output}.json`), 'utf8')) as UploadedOutput;
      } catch {
        return undefined;
      }
    },
    clear: (buildId) => rm(dir(buildId), { recursive: true, force: true }),
  };
}
