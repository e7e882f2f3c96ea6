// Structural validation of an uploaded NAR while it streams, with the store
// package's validating parser: a NAR that breaks the format is refused even
// when its hash matches what the agent declared.
import { ByteReader, NarError, parseNar } from '@gbc/store';
import { UploadRefusedError } from '../errors.js';

/**
 * Reads `source` to its end as one NAR, checking every rule of the format
 * (contents are skipped, not kept). A broken rule is an UploadRefusedError:
 * `truncated` when the archive stops early, `corrupt-nar` otherwise. Errors
 * thrown by `source` itself pass through unchanged.
 */
export async function validateNarStream(source: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const entry of parseNar(new ByteReader(source))) void entry;
  } catch (error) {
    if (!(error instanceof NarError)) throw error;
    throw new UploadRefusedError(
      error.code === 'truncated' ? 'truncated' : 'corrupt-nar',
      `the upload is not a valid NAR (${error.code})`,
      {
        found: error.message,
        cause: error,
      },
    );
  }
}

/** Passes `source` on unchanged while calling `inspect` on each chunk first. */
export async function* tap(
  source: AsyncIterable<Uint8Array>,
  inspect: (chunk: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    inspect(chunk);
    yield chunk;
  }
}
