// The submit flow, as a library function: read the closure of some
// derivations from the local store directory, ask the coordinator which
// derivations and input sources it lacks, upload only those (sources as NARs,
// referenced sources first; derivations inputs-first in batches), then create
// one build per derivation. With `upload: false` nothing is read or uploaded:
// the coordinator fetches what it lacks from its derivation substitute servers
// (submission by name, as Guix's tools submit).
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CoordinatorClient, SubmitBuildInput, SubmitBuildResponse } from '@gbc/protocol';
import { encodeDerivationText } from '@gbc/protocol';
import { loadDerivationClosure } from '@gbc/store';
import { uploadSources } from './upload-sources.js';

/** What the submission is doing, for progress bars. */
export interface SubmitProgress {
  readonly phase: 'reading' | 'sources' | 'derivations' | 'builds';
  /** Items of this phase done so far, out of `total`. */
  readonly done: number;
  readonly total: number;
}

/** Options of submitDerivations. */
export interface SubmitOptions {
  /** Build options applied to every derivation (priority, tags, …). */
  readonly build?: Omit<SubmitBuildInput, 'derivation'>;
  /** The store directory; default the directory of the first derivation. */
  readonly storeDir?: string;
  /**
   * The directory holding the store's files on this machine when it is not
   * the store directory itself (Nix's `real` store setting: a store opened as
   * `local?store=/gnu/store&root=R` keeps its files in `R/nix/store`). Default: the store directory.
   */
  readonly realStoreDir?: string;
  /**
   * Read the closure locally and upload what the coordinator lacks (default
   * true). False: submit by name only, for a client without the derivations.
   */
  readonly upload?: boolean;
  /** Most derivation text per upload request, in bytes. Default 4 MiB. */
  readonly batchBytes?: number;
  readonly onProgress?: (progress: SubmitProgress) => void;
  readonly signal?: AbortSignal;
}

/** One build submitted (or found existing), by derivation. */
export interface SubmittedBuild extends SubmitBuildResponse {
  readonly derivation: string;
}

/** Paths per `missingPaths` request (the protocol allows 100 000). */
const MISSING_BATCH = 50_000;

/** Submits builds of `derivations` (absolute .drv paths) to the coordinator; see the file header. */
export async function submitDerivations(
  client: CoordinatorClient,
  derivations: readonly string[],
  options: SubmitOptions = {},
): Promise<SubmittedBuild[]> {
  const roots = [...new Set(derivations)];
  if (roots.length === 0) return [];
  if (options.upload !== false) await uploadClosure(client, roots, options);
  return submitBuilds(client, roots, options);
}

/** Reads the closure of `roots` from the local store and uploads the derivations and sources the coordinator lacks. */
async function uploadClosure(
  client: CoordinatorClient,
  roots: readonly string[],
  options: SubmitOptions,
): Promise<void> {
  const storeDir = (options.storeDir ?? dirname(roots[0]!)).replace(/\/+$/, '');
  const realStoreDir = options.realStoreDir?.replace(/\/+$/, '');
  const realPath = (path: string): string =>
    realStoreDir === undefined || !path.startsWith(`${storeDir}/`)
      ? path
      : realStoreDir + path.slice(storeDir.length);
  const progress = options.onProgress ?? (() => undefined);
  const signal = options.signal;
  const texts = new Map<string, Uint8Array>();
  let read = 0;
  const closure = await loadDerivationClosure(roots, async (path) => {
    const bytes = new Uint8Array(await readFile(realPath(path)));
    texts.set(path, bytes);
    progress({ phase: 'reading', done: ++read, total: read });
    return bytes;
  });
  const sources = [...new Set(closure.order.flatMap((p) => closure.derivations.get(p)!.inputSrcs))];
  const missing = new Set(await missingOf(client, [...closure.order, ...sources], signal));

  await uploadSources(
    client,
    sources.filter((s) => missing.has(s)),
    { storeDir, realPath, signal, onProgress: progress, missingOf: (p) => missingOf(client, p, signal) },
  );

  const drvs = closure.order.filter((p) => missing.has(p));
  const batchBytes = options.batchBytes ?? 4 * 1024 * 1024;
  let done = 0;
  progress({ phase: 'derivations', done, total: drvs.length });
  for (let i = 0; i < drvs.length;) {
    const batch: { path: string; text: string }[] = [];
    let bytes = 0;
    while (
      i < drvs.length &&
      batch.length < 10_000 &&
      (batch.length === 0 || bytes + texts.get(drvs[i]!)!.length <= batchBytes)
    ) {
      const path = drvs[i++]!;
      bytes += texts.get(path)!.length;
      batch.push({ path, text: encodeDerivationText(texts.get(path)!) });
    }
    await client.uploadDerivations(batch, { signal });
    done += batch.length;
    progress({ phase: 'derivations', done, total: drvs.length });
  }
}

/** Creates one build per derivation. */
async function submitBuilds(
  client: CoordinatorClient,
  roots: readonly string[],
  options: SubmitOptions,
): Promise<SubmittedBuild[]> {
  const progress = options.onProgress ?? (() => undefined);
  const signal = options.signal;
  const results: SubmittedBuild[] = [];
  progress({ phase: 'builds', done: 0, total: roots.length });
  for (const derivation of roots) {
    const answer = await client.submitBuild({ ...options.build, derivation }, { signal });
    results.push({ derivation, ...answer });
    progress({ phase: 'builds', done: results.length, total: roots.length });
  }
  return results;
}

/** The paths among `paths` that the coordinator lacks, asked in batches. */
async function missingOf(
  client: CoordinatorClient,
  paths: readonly string[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < paths.length; i += MISSING_BATCH) {
    missing.push(...(await client.missingPaths(paths.slice(i, i + MISSING_BATCH), { signal })).missing);
  }
  return missing;
}
