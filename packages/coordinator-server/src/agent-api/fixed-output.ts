// Fixed-output derivations say in advance what their output is: the hash of
// its NAR (recursive, `r:<algo>`) or of its one regular, non-executable file
// (flat, `<algo>`); their output path is made from that hash (checked when
// the derivation was accepted). An agent's upload of such an output is
// checked against the declared hash before it can be recorded, so that a
// compromised agent cannot make the cache serve, and sign, other bytes under
// that path.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ByteReader, parseHash, parseNar } from '@gbc/store';
import { createDecompressor } from '../compression/codecs.js';
import { HttpError } from '../http/http-error.js';
import type { StoredNar } from '../storage/index.js';
import type { Storage } from '../storage/storage.js';

/** What a fixed output's derivation declares. */
export interface FixedHash {
  readonly recursive: boolean;
  /** `sha256`, `sha1`, `sha512` or `md5`. */
  readonly algorithm: string;
  /** The expected digest, lower-case base16. */
  readonly hex: string;
}

const ALGORITHMS = new Set(['md5', 'sha1', 'sha256', 'sha512']);

/** The declared hash of an output from its derivation's `hashAlgo` and `hash`, or null for an output that is not fixed. */
export function fixedHashOf(hashAlgo: string, hash: string): FixedHash | null {
  if (hashAlgo === '' || hash === '') return null;
  const recursive = hashAlgo.startsWith('r:');
  const algorithm = recursive ? hashAlgo.slice(2) : hashAlgo;
  if (!ALGORITHMS.has(algorithm))
    throw new HttpError(
      'unprocessable-derivation',
      `the fixed output's hash algorithm ${JSON.stringify(hashAlgo)} is not one gbc checks`,
    );
  return { recursive, algorithm, hex: hash.toLowerCase() };
}

/**
 * Checks a stored (already NarHash-verified) upload against `fixed`; on a
 * mismatch the stored file is removed and `hash-mismatch` thrown. A recursive
 * sha256 is the NarHash itself; anything else is read back from storage.
 */
export async function checkFixedOutput(
  storage: Storage,
  stored: StoredNar,
  fixed: FixedHash,
  path: string,
): Promise<void> {
  let found: string;
  if (fixed.recursive && fixed.algorithm === 'sha256') {
    found = Buffer.from(parseHash(stored.narHash, 'sha256').digest).toString('hex');
  } else {
    found = await hashStored(storage, stored, fixed);
  }
  if (found === fixed.hex) return;
  await storage.delete('nar', stored.key);
  throw new HttpError(
    'hash-mismatch',
    `the output ${path} is fixed by its derivation (${fixed.recursive ? 'r:' : ''}${fixed.algorithm}:${fixed.hex}), but the uploaded content hashes to ${found}: refused`,
    {
      details: { path, expected: fixed.hex, found },
    },
  );
}

/** The digest of the stored NAR (recursive) or of its one regular file (flat). */
async function hashStored(storage: Storage, stored: StoredNar, fixed: FixedHash): Promise<string> {
  const file = await storage.get('nar', stored.key);
  if (file === null)
    throw new HttpError('internal', `the upload of ${stored.key} vanished before it was checked`);
  const nar = Readable.from(file.pipe(createDecompressor(stored.compression)));
  const hash = createHash(fixed.algorithm);
  if (fixed.recursive) {
    for await (const chunk of nar) hash.update(chunk as Uint8Array);
    return hash.digest('hex');
  }
  let entries = 0;
  for await (const entry of parseNar(new ByteReader(nar))) {
    entries++;
    if (entries > 1 || entry.kind !== 'regular' || entry.executable) {
      nar.destroy();
      await storage.delete('nar', stored.key);
      throw new HttpError(
        'hash-mismatch',
        `a flat fixed output must be one non-executable regular file; the upload of ${stored.key} is not`,
      );
    }
    for await (const chunk of entry.contents) hash.update(chunk);
  }
  return hash.digest('hex');
}
