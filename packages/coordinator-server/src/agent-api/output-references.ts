// The references an agent declares for an output it uploads, checked against
// the NAR itself, as Nix finds references: by scanning the output for the hash
// parts of the paths its build could see. The paths a build could see are its
// derivation's own outputs and its input closure; the coordinator knows that
// closure through the derivations it holds: every output of every derivation
// in the build-time closure, every input source, and the references recorded
// for those it holds metadata of (a superset of the runtime input closure,
// which is made of exactly such paths). The rules:
// - a declared reference outside that set is refused: an agent may not make
//   clients fetch a path the build never saw;
// - a declared reference whose hash part does not occur in the NAR is refused:
//   a daemon's references are what its scan found, so it is a lie;
// - a hash part found but not declared is let through: the set is wider than
//   the daemon's input closure (outputs of build-only dependencies, unused
//   outputs), so finding more than the daemon is no proof of a lie.
import type { Db } from '@gbc/datastore';
import { chunk } from '@gbc/datastore';
import { HttpError } from '../http/http-error.js';
import type { NarInspector } from '../storage/index.js';
import { derivationClosure } from './closure.js';

/** Length of a store path's hash part (nix-base32 of 160 bits). */
const HASH_PART = 32;
const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
const IS_NIX32 = new Uint8Array(256);
for (const c of NIX32) IS_NIX32[c.charCodeAt(0)] = 1;

/** Every store path a build of `derivationPath` may refer to, by hash part (see the file header). */
export async function referenceCandidates(db: Db, derivationPath: string): Promise<Map<string, string>> {
  const closure = await derivationClosure(db, derivationPath, 'all');
  const paths = new Set<string>(closure.inputs);
  for (const part of chunk(closure.derivations, 1)) {
    const rows = await db
      .selectFrom('derivation_outputs as o')
      .innerJoin('derivations as d', 'd.id', 'o.derivation_id')
      .select('o.path')
      .where('d.path', 'in', part)
      .execute();
    for (const r of rows) paths.add(r.path);
  }
  for (const part of chunk(closure.inputs, 1)) {
    const rows = await db
      .selectFrom('output_metadata')
      .select('references')
      .where('store_path', 'in', part)
      .execute();
    for (const r of rows) for (const ref of JSON.parse(r.references) as string[]) paths.add(ref);
  }
  const byHash = new Map<string, string>();
  for (const p of paths) byHash.set(hashPartOf(p), p);
  return byHash;
}

/** The hash part of a store path or basename. */
export function hashPartOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1, path.lastIndexOf('/') + 1 + HASH_PART);
}

/**
 * Finds which of `hashParts` occur in a byte stream fed in chunks (a hash part
 * may straddle two chunks). Skips ahead like Nix's scanner: a window whose
 * last non-nix32 byte is at j cannot hold a hash part before j + 1.
 */
export class HashPartScanner {
  readonly #wanted: ReadonlySet<string>;
  readonly #found = new Set<string>();
  #carry: Buffer = Buffer.alloc(0);

  constructor(hashParts: Iterable<string>) {
    this.#wanted = new Set(hashParts);
  }

  /** Scans the next bytes. */
  update(chunk: Uint8Array): void {
    if (this.#wanted.size === 0 || chunk.length === 0) return;
    const buf =
      this.#carry.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.#carry, chunk]);
    let i = 0;
    while (i + HASH_PART <= buf.length) {
      let j = HASH_PART - 1;
      while (j >= 0 && IS_NIX32[buf[i + j]!] === 1) j--;
      if (j >= 0) {
        i += j + 1;
        continue;
      }
      const candidate = buf.toString('latin1', i, i + HASH_PART);
      if (this.#wanted.has(candidate)) this.#found.add(candidate);
      i += 1;
    }
    this.#carry = Buffer.from(buf.subarray(Math.max(0, buf.length - (HASH_PART - 1))));
  }

  /** The hash parts seen so far. */
  found(): ReadonlySet<string> {
    return this.#found;
  }
}

/**
 * An inspector for an output upload: scans the NAR for the candidates' hash
 * parts and, once the NAR is verified and before it is stored, refuses
 * (400 bad-request, nothing kept) declared references outside the candidates
 * or absent from the NAR.
 */
export function referenceInspector(
  outputPath: string,
  declared: readonly string[],
  candidates: ReadonlyMap<string, string>,
): NarInspector {
  const scanner = new HashPartScanner(candidates.keys());
  return {
    update: (chunk) => scanner.update(chunk),
    finish() {
      const outside = declared.filter((r) => candidates.get(hashPartOf(r)) !== r);
      if (outside.length > 0) {
        throw new HttpError(
          'bad-request',
          `the output ${outputPath} declares references its build could not see (not in its derivation's closure): ${outside.join(', ')}; nothing was kept`,
          {
            details: { reason: 'reference-outside-closure', references: outside },
          },
        );
      }
      const absent = declared.filter((r) => !scanner.found().has(hashPartOf(r)));
      if (absent.length > 0) {
        throw new HttpError(
          'bad-request',
          `the output ${outputPath} declares references that do not occur in its NAR: ${absent.join(', ')}; nothing was kept`,
          {
            details: { reason: 'reference-not-in-nar', references: absent },
          },
        );
      }
    },
  };
}
