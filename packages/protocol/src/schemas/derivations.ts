// Submission-side schemas: which paths the coordinator lacks, derivation uploads.
import { z } from 'zod';
import { named } from './registry.js';
import { derivationPathSchema, storePathSchema } from './common.js';

/** `POST /derivations/missing`: derivation and input-source paths a client is about to submit. */
export const missingPathsRequestSchema = named(
  'MissingPathsRequest',
  z.object({ paths: z.array(storePathSchema).max(100000) }),
);
/** `POST /derivations/missing`. */
export type MissingPathsRequest = z.infer<typeof missingPathsRequestSchema>;

/** The answer: the subset of `paths` the coordinator does not hold, in request order. */
export const missingPathsResponseSchema = named(
  'MissingPathsResponse',
  z.object({ missing: z.array(storePathSchema) }),
);
/** The answer to `POST /derivations/missing`. */
export type MissingPathsResponse = z.infer<typeof missingPathsResponseSchema>;

/** Standard base64 (RFC 4648 §4, with padding). */
export const base64Schema = z.base64();

/** One derivation to upload: its path and its exact text bytes in base64 (derivations are bytes, not always UTF-8). */
export const derivationUploadSchema = named(
  'DerivationUpload',
  z.object({ path: derivationPathSchema, text: base64Schema }),
);
/** One derivation to upload. */
export type DerivationUpload = z.infer<typeof derivationUploadSchema>;

/**
 * `POST /derivations`: a batch of derivations. Upload dependencies before (or
 * in the same batch as) the derivations that use them; the coordinator checks
 * every path against its text and every output path.
 */
export const uploadDerivationsRequestSchema = named(
  'UploadDerivationsRequest',
  z.object({ derivations: z.array(derivationUploadSchema).min(1).max(10000) }),
);
/** `POST /derivations`. */
export type UploadDerivationsRequest = z.infer<typeof uploadDerivationsRequestSchema>;

/** The answer to a derivation upload: the paths now held (including any already held). */
export const uploadDerivationsResponseSchema = named(
  'UploadDerivationsResponse',
  z.object({ stored: z.array(derivationPathSchema) }),
);
/** The answer to a derivation upload. */
export type UploadDerivationsResponse = z.infer<typeof uploadDerivationsResponseSchema>;

/** Encodes derivation bytes for a `DerivationUpload`. */
export function encodeDerivationText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes a `DerivationUpload`'s text back to its exact bytes. */
export function decodeDerivationText(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
