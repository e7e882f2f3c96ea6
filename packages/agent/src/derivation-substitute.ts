// A `.drv` file from the derivation substitute URLs (the original agent's
// --derivation-substitute-urls): for a derivation of a build's closure whose
// text the coordinator cannot give. Its narinfo and NAR are fetched, the NAR
// checked against the narinfo's NarHash and NarSize, and the file's bytes
// taken out of it; the caller then checks the text against its path as it
// checks the coordinator's (the daemon's AddTextToStore, or computeDerivationPath).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatNarHash, NarError, NarHasher, regularFileOfNar } from '@gbc/store';
import { createDecompressor } from './compression.js';
import { AgentError } from './errors.js';
import type { NarSource } from './nar-source.js';

/** The largest NAR of a .drv accepted, in bytes (the largest Guix derivations are a few hundred KiB). */
export const MAX_DERIVATION_NAR_BYTES = 16 * 1024 * 1024;

/**
 * The bytes of the derivation `drvPath` from the first of `sources` that has
 * a usable copy, or null when none has. A source whose narinfo is malformed,
 * whose NAR does not match it or is not one regular file is passed over;
 * a transient failure (5xx, unreachable) is thrown, for the caller's retries.
 */
export async function substituteDerivationText(
  sources: readonly NarSource[],
  drvPath: string,
): Promise<Uint8Array | null> {
  for (const source of sources) {
    try {
      const info = await source.narinfo(drvPath);
      const file = info?.files[0];
      if (info === null || file === undefined || info.storePath !== drvPath) continue;
      if (info.narSize > MAX_DERIVATION_NAR_BYTES) continue;
      const nar = await readNar(await source.nar(file.url), file.compression);
      const hasher = new NarHasher();
      hasher.update(nar);
      const { narHash, narSize } = hasher.digest();
      if (formatNarHash(narHash) !== info.narHash || narSize !== info.narSize) continue;
      return await derivationOfNar(nar);
    } catch (error) {
      if (error instanceof AgentError && error.code === 'source-unavailable') throw error;
      // Any other failure of this source (refused, malformed, not a file): the next one.
    }
  }
  return null;
}

/** The decompressed NAR, refused past MAX_DERIVATION_NAR_BYTES. */
async function readNar(body: AsyncIterable<Uint8Array>, compression: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  await pipeline(
    Readable.from(body),
    createDecompressor(compression),
    async (decompressed: AsyncIterable<Uint8Array>) => {
      for await (const chunk of decompressed) {
        size += chunk.length;
        if (size > MAX_DERIVATION_NAR_BYTES)
          throw new AgentError('hash-mismatch', `a derivation NAR over ${MAX_DERIVATION_NAR_BYTES} bytes`);
        chunks.push(chunk);
      }
    },
  );
  return Buffer.concat(chunks);
}

/**
 * The contents of a NAR holding one regular file (what a .drv is); throws
 * AgentError `bad-derivation` for anything else (a directory, a symlink, trailing bytes).
 */
export async function derivationOfNar(nar: Uint8Array): Promise<Uint8Array> {
  try {
    return await regularFileOfNar(nar);
  } catch (error) {
    if (!(error instanceof NarError)) throw error;
    throw new AgentError('bad-derivation', `a derivation NAR is not one regular file: ${error.message}`, {
      cause: error,
    });
  }
}
