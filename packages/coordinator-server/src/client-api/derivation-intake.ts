// Accepting uploaded derivations: each one is parsed, its path checked against
// its text and its output paths against the modulo hashes of its inputs
// (held already, or earlier in the same batch), under the store directory
// its own path names (/gnu/store or /nix/store), then the batch is recorded in
// one transaction. A batch is all or nothing; a repeated upload is a no-op.
import { existingDerivationPaths, recordDerivations } from '@gbc/datastore';
import type { DerivationRecord, Db } from '@gbc/datastore';
import {
  checkDerivation,
  derivationKind,
  derivationNameFromPath,
  parseDerivation,
  DerivationError,
  StoreError,
} from '@gbc/store';
import type { Derivation } from '@gbc/store';
import { HttpError } from '../http/http-error.js';
import { resolveModuloHashes, storeDirOf } from './modulo-hashes.js';
import type { ModuloHashCache } from './modulo-hashes.js';

/** What a derivation's system may be: printable ASCII, e.g. `x86_64-linux`, or Nix's `builtin`. */
const SYSTEM = /^[\x21-\x7e]{1,64}$/;

/** One derivation as uploaded: its claimed path and its exact bytes. */
export interface DerivationBytes {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/** One problem with one uploaded derivation, as the 422's details list them. */
export interface DerivationProblem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/**
 * Checks and records `uploads`; returns every uploaded path (all now held).
 * @throws HttpError 422 `unprocessable-derivation` listing every problem (nothing recorded).
 */
export async function acceptDerivations(
  db: Db,
  uploads: readonly DerivationBytes[],
  cache: ModuloHashCache,
): Promise<string[]> {
  const paths = uploads.map((u) => u.path);
  const held = new Set(await existingDerivationPaths(db, paths));
  const fresh = new Map<string, { bytes: Uint8Array; drv: Derivation }>();
  const problems: DerivationProblem[] = [];
  for (const u of uploads) {
    if (held.has(u.path) || fresh.has(u.path)) continue;
    try {
      fresh.set(u.path, { bytes: u.bytes, drv: parseDerivation(u.bytes) });
    } catch (error) {
      problems.push(problemOf(u.path, error));
    }
  }
  const outside = new Set<string>();
  for (const { drv } of fresh.values())
    for (const input of drv.inputDrvs.keys())
      if (!fresh.has(input) && isDerivationPath(input)) outside.add(input);
  const hashes = await resolveModuloHashes(db, outside, cache);
  const records: DerivationRecord[] = [];
  for (const path of batchOrder(fresh)) {
    const { bytes, drv } = fresh.get(path)!;
    // Malformed input paths are left to checkDerivation, which names the rule they break.
    const missing = [...drv.inputDrvs.keys()].filter((p) => !hashes.has(p) && isDerivationPath(p));
    if (missing.length > 0) {
      problems.push({
        path,
        code: 'drv-input-missing',
        message: `input derivations not held by the coordinator (or refused in this batch): ${missing.join(', ')}; upload them first, dependencies first`,
      });
      continue;
    }
    if (!SYSTEM.test(drv.system)) {
      problems.push({
        path,
        code: 'drv-system',
        message: `the system ${JSON.stringify(drv.system.slice(0, 64))} is not 1-64 printable ASCII characters (such as x86_64-linux)`,
      });
      continue;
    }
    const check = checkDerivation(path, bytes, { storeDir: storeDirOf(path), inputHashes: hashes });
    if (!check.ok) {
      for (const e of check.errors) problems.push(problemOf(path, e));
      continue;
    }
    hashes.set(path, check.hashModulo);
    cache.set(path, check.hashModulo);
    records.push(toRecord(path, check.name, bytes, drv));
  }
  if (problems.length > 0) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems, see details)` : '';
    throw new HttpError(
      'unprocessable-derivation',
      `derivation ${first.path} refused: ${first.message}${more}`,
      { details: { problems } },
    );
  }
  await recordDerivations(db, records);
  return [...new Set(paths)];
}

/** The fresh derivations in an order where inputs in the batch come first. */
function batchOrder(fresh: ReadonlyMap<string, { drv: Derivation }>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of fresh.keys()) {
    const stack: { path: string; inputs: string[] }[] = [];
    const enter = (path: string): void => {
      state.set(path, 'visiting');
      stack.push({ path, inputs: [...fresh.get(path)!.drv.inputDrvs.keys()].filter((p) => fresh.has(p)) });
    };
    if (state.has(root)) continue;
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top.inputs.pop();
      if (next === undefined) {
        stack.pop();
        state.set(top.path, 'done');
        order.push(top.path);
      } else if (!state.has(next)) {
        enter(next);
      }
      // A cycle (impossible for real derivations) is cut here; its paths cannot match their texts.
    }
  }
  return order;
}

/** True for a well-formed `.drv` store path (never sent to the database otherwise: PostgreSQL refuses NUL bytes). */
function isDerivationPath(path: string): boolean {
  try {
    derivationNameFromPath(path, storeDirOf(path));
    return true;
  } catch (error) {
    if (error instanceof StoreError) return false;
    throw error;
  }
}

function toRecord(path: string, name: string, bytes: Uint8Array, drv: Derivation): DerivationRecord {
  return {
    path,
    name,
    system: drv.system,
    fixedOutput: derivationKind(drv).type === 'fixed-output',
    text: bytes,
    outputs: [...drv.outputs].map(([outputName, o]) => ({
      name: outputName,
      path: o.path,
      hashAlgo: o.hashAlgo,
      hash: o.hash,
    })),
    inputDerivations: [...drv.inputDrvs].map(([p, outputs]) => ({ path: p, outputs: [...outputs] })),
    inputSources: [...drv.inputSrcs],
  };
}

function problemOf(path: string, error: unknown): DerivationProblem {
  if (error instanceof DerivationError || error instanceof StoreError)
    return { path, code: error.code, message: error.message };
  throw error;
}
