// Walks a derivation's input closure through an async loader, breadth-first
// with bounded concurrency and no recursion (chains of any length), then
// orders it inputs-first and computes every modulo hash.
import { StoreError } from '../errors.js';
import { derivationNameFromPath } from './derivation-path.js';
import { DerivationError } from './errors.js';
import { hashDerivationModulo } from './hash-modulo.js';
import { parseDerivation } from './parse.js';
import type { Derivation } from './types.js';

/** Reads the bytes of a `.drv` file, e.g. from the store directory or the coordinator. */
export type DerivationLoader = (drvPath: string) => Promise<Uint8Array>;

/** Options of loadDerivationClosure. */
export interface ClosureOptions {
  /** Loads run at once, at most. Default 8. */
  readonly concurrency?: number;
  /** Memo shared between walks: derivations already parsed, by path. Filled as the walk goes. */
  readonly cache?: Map<string, Derivation>;
}

/** A derivation closure: every derivation by path, and `order` with inputs before dependents. */
export interface DerivationClosure {
  readonly derivations: ReadonlyMap<string, Derivation>;
  readonly order: readonly string[];
}

/**
 * Loads and parses the closure of `roots` over input derivations; each path
 * is loaded once. It does not check that a text belongs to its path: use
 * checkDerivation (inputs first, in `order`) on what came from untrusted hands.
 */
export async function loadDerivationClosure(
  roots: string | readonly string[],
  loader: DerivationLoader,
  options: ClosureOptions = {},
): Promise<DerivationClosure> {
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const cache = options.cache ?? new Map<string, Derivation>();
  const derivations = new Map<string, Derivation>();
  let frontier = [...new Set(typeof roots === 'string' ? [roots] : roots)];
  const seen = new Set(frontier);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < frontier.length; i += concurrency) {
      const batch = frontier.slice(i, i + concurrency);
      const loaded = await Promise.all(batch.map((path) => load(path, loader, cache)));
      batch.forEach((path, j) => {
        const drv = loaded[j]!;
        derivations.set(path, drv);
        for (const input of drv.inputDrvs.keys()) {
          if (!seen.has(input)) {
            seen.add(input);
            next.push(input);
          }
        }
      });
    }
    frontier = next;
  }
  return { derivations, order: topologicalOrder(derivations) };
}

async function load(
  path: string,
  loader: DerivationLoader,
  cache: Map<string, Derivation>,
): Promise<Derivation> {
  const cached = cache.get(path);
  if (cached !== undefined) return cached;
  const bytes = await loader(path);
  let drv: Derivation;
  try {
    drv = parseDerivation(bytes);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    throw new DerivationError(error.code, `cannot read derivation ${path}: ${error.message}`, {
      field: path,
      cause: error,
    });
  }
  cache.set(path, drv);
  return drv;
}

/** Orders derivations inputs-first with an explicit stack; throws `drv-cycle` on a cycle. */
export function topologicalOrder(derivations: ReadonlyMap<string, Derivation>): string[] {
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  for (const root of derivations.keys()) {
    if (state.has(root)) continue;
    const stack: Array<{ path: string; inputs: Iterator<string> }> = [];
    const enter = (path: string): void => {
      state.set(path, 1);
      stack.push({ path, inputs: derivations.get(path)?.inputDrvs.keys() ?? [][Symbol.iterator]() });
    };
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const step = top.inputs.next();
      if (step.done) {
        stack.pop();
        state.set(top.path, 2);
        order.push(top.path);
      } else if (state.get(step.value) === 1) {
        throw new DerivationError('drv-cycle', 'input derivations form a cycle', { field: step.value });
      } else if (!state.has(step.value) && derivations.has(step.value)) {
        enter(step.value);
      }
    }
  }
  return order;
}

/**
 * Computes the modulo hash of every derivation in a closure (inputs first);
 * `known` supplies hashes of inputs outside it.
 */
export function hashDerivationClosure(
  closure: DerivationClosure,
  storeDir: string,
  known: ReadonlyMap<string, Uint8Array> = new Map(),
): Map<string, Uint8Array> {
  const hashes = new Map<string, Uint8Array>(known);
  for (const path of closure.order) {
    const drv = closure.derivations.get(path)!;
    const name = derivationNameFromPath(path, storeDir);
    hashes.set(path, hashDerivationModulo(drv, { storeDir, name, inputHashes: hashes }));
  }
  return hashes;
}
