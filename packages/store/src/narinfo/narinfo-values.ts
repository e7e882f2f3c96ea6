// Checks of single narinfo values: sizes, sha256 hashes, store paths; the
// store-path and hash rules themselves live in ../store-path and ../hash.
import { StoreError, quote } from '../errors.js';
import { parseHash } from '../hash/index.js';
import { parseStorePath, parseStorePathBasename } from '../store-path/index.js';
import { NarInfoError } from './narinfo-error.js';

/** Where a value came from, for error messages. */
export interface ValueSite {
  readonly field: string;
  readonly line?: number;
  readonly offset?: number;
}

const DIGITS = /^(0|[1-9][0-9]*)$/;

/** Parses a decimal byte count without sign or leading zeros, up to 2^53 - 1. */
export function parseSize(text: string, site: ValueSite): number {
  const n = DIGITS.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new NarInfoError('narinfo-bad-size', 'not a size in bytes', {
      ...site,
      expected: 'a decimal integer without leading zeros, below 2^53',
      found: quote(text),
    });
  }
  return n;
}

/**
 * Decodes a `sha256:` hash written in Nix base32 (as Nix and Guix write it),
 * base16 or base64 (which Nix also reads). Returns the 32-byte digest.
 */
export function decodeSha256(text: string, site: ValueSite): Uint8Array {
  return rethrow('narinfo-bad-hash', 'sha256:<52 Nix base32 characters>', text, site, () => {
    if (!text.startsWith('sha256:')) {
      throw new NarInfoError('narinfo-bad-hash', 'not a sha256 hash', {
        ...site,
        expected: 'sha256:<52 Nix base32 characters>',
        found: quote(text),
      });
    }
    return parseHash(text, 'sha256').digest;
  });
}

/** Checks a store path basename `<32 Nix base32 characters>-<name>` and returns it. */
export function checkBasename(text: string, site: ValueSite): string {
  return rethrow('narinfo-bad-store-path', '<32 Nix base32 characters>-<name>', text, site, () => {
    parseStorePathBasename(text);
    return text;
  });
}

/** Checks that `path` is `<storeDir>/<basename>` and returns the basename. */
export function checkStorePath(path: string, storeDir: string, site: ValueSite): string {
  return rethrow('narinfo-bad-store-path', `a store path under ${storeDir}`, path, site, () => {
    parseStorePath(path, storeDir);
    return path.slice(storeDir.length + 1);
  });
}

// Turns the store-path and hash modules' errors into a NarInfoError that names
// the narinfo field and line, keeping the original as the cause.
function rethrow<T>(code: string, expected: string, text: string, site: ValueSite, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof NarInfoError || !(error instanceof StoreError)) throw error;
    throw new NarInfoError(code, error.message, { ...site, expected, found: quote(text), cause: error });
  }
}
