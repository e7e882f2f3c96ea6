// NAR upload metadata carried in headers (outputs and input sources), and upload progress.
import { z } from 'zod';
import { named } from './registry.js';
import {
  byteCountSchema,
  compressionSchema,
  narHashSchema,
  storePathBaseNameSchema,
  storePathSchema,
} from './common.js';

/**
 * Header names of a NAR upload (`PUT /build/{uuid}/output/{name}`,
 * `PUT /source/{name}`), lowercase as Node and Hono expose them.
 * The body is the NAR, compressed as `x-gbc-compression` says.
 */
export const uploadHeaders = {
  /** `none` (default), `gzip`, `lzip` or `zstd`: how the body is compressed. */
  compression: 'x-gbc-compression',
  /** `sha256:<nix32>` of the uncompressed NAR. */
  narHash: 'x-gbc-nar-hash',
  /** Length in bytes of the uncompressed NAR. */
  narSize: 'x-gbc-nar-size',
  /** Space-separated basenames of the store paths it refers to (may be empty). */
  references: 'x-gbc-references',
  /** Basename of the deriver, when known. */
  deriver: 'x-gbc-deriver',
} as const;

/** The metadata of an uploaded NAR, as carried by the headers. */
export const narUploadMetadataSchema = named(
  'NarUploadMetadata',
  z.object({
    compression: compressionSchema.default('none'),
    narHash: narHashSchema,
    narSize: byteCountSchema,
    references: z.array(storePathBaseNameSchema),
    deriver: storePathBaseNameSchema.optional(),
  }),
);
/** NAR upload metadata as a client writes it. */
export type NarUploadMetadataInput = z.input<typeof narUploadMetadataSchema>;
/** NAR upload metadata after validation. */
export type NarUploadMetadata = z.infer<typeof narUploadMetadataSchema>;

/** The upload headers as a schema, for the OpenAPI document and for validation of raw header values. */
export const narUploadHeadersSchema = z.object({
  [uploadHeaders.compression]: compressionSchema.optional(),
  [uploadHeaders.narHash]: narHashSchema,
  [uploadHeaders.narSize]: z.string().regex(/^(0|[1-9][0-9]{0,15})$/, 'expected a decimal byte count'),
  [uploadHeaders.references]: z.string().optional(),
  [uploadHeaders.deriver]: storePathBaseNameSchema.optional(),
});

/** Writes NAR upload metadata as request headers. */
export function encodeUploadHeaders(meta: NarUploadMetadataInput): Record<string, string> {
  const h: Record<string, string> = {
    [uploadHeaders.compression]: meta.compression ?? 'none',
    [uploadHeaders.narHash]: meta.narHash,
    [uploadHeaders.narSize]: String(meta.narSize),
    [uploadHeaders.references]: meta.references.join(' '),
  };
  if (meta.deriver !== undefined) h[uploadHeaders.deriver] = meta.deriver;
  return h;
}

/**
 * Reads NAR upload metadata from request headers (`get` is e.g. `(n) => c.req.header(n)`).
 * Returns zod's result: on failure, `error` names the bad field.
 */
export function parseUploadHeaders(get: (name: string) => string | null | undefined) {
  const size = get(uploadHeaders.narSize);
  const refs = get(uploadHeaders.references)?.trim() ?? '';
  return narUploadMetadataSchema.safeParse({
    compression: get(uploadHeaders.compression) ?? undefined,
    narHash: get(uploadHeaders.narHash) ?? undefined,
    narSize:
      size !== null && size !== undefined && /^(0|[1-9][0-9]{0,15})$/.test(size)
        ? Number(size)
        : (size ?? undefined),
    references: refs === '' ? [] : refs.split(/ +/),
    deriver: get(uploadHeaders.deriver) ?? undefined,
  });
}

/** Query of an output upload: `offset` resumes an interrupted upload at that byte of the (compressed) body. */
export const uploadQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

/**
 * `GET /build/{uuid}/output/{name}/progress`: how much of an interrupted upload
 * the coordinator holds. Resume by sending the same compressed bytes from
 * `bytesReceived` with `?offset=`; the same compressed stream must be re-sent
 * (keep the compressed file, or use deterministic compression).
 */
export const uploadProgressSchema = named(
  'UploadProgress',
  z.object({ bytesReceived: byteCountSchema, complete: z.boolean() }),
);
/** Upload progress. */
export type UploadProgress = z.infer<typeof uploadProgressSchema>;

/**
 * Query of a log upload: `offset` is the byte of the attempt's log where the
 * body starts. Bytes the coordinator already holds are skipped (a resend is
 * idempotent); an offset past them is refused. Without it, the body is appended.
 */
export const logUploadQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

/**
 * `GET /build/{uuid}/log-progress`: how many bytes of the attempt's log the
 * coordinator holds (resend from there with `?offset=`), and whether the log
 * is sealed (it accepts no more).
 */
export const logUploadProgressSchema = named(
  'LogUploadProgress',
  z.object({ bytesReceived: byteCountSchema, sealed: z.boolean() }),
);
/** Log upload progress. */
export type LogUploadProgress = z.infer<typeof logUploadProgressSchema>;

/** The answer to a completed NAR upload: what the coordinator verified and stored. */
export const storedNarSchema = named(
  'StoredNar',
  z.object({
    path: storePathSchema,
    narHash: narHashSchema,
    narSize: byteCountSchema,
    compression: compressionSchema,
    /** Size of the stored (compressed) file. */
    fileSize: byteCountSchema,
  }),
);
/** The answer to a completed NAR upload. */
export type StoredNar = z.infer<typeof storedNarSchema>;
