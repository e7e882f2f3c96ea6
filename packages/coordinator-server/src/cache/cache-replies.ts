// What the binary cache answers to a narinfo or NAR request, decided once for
// both ways of serving it (the Hono app, and the listener's fast path in
// cache-listener.ts): status, headers, and either bytes or a stored file (a
// byte range of it). Conditional requests (304), HEAD, ranges (206/416) and
// Cache-Control are settled here; the callers only write the reply.
import type { OutputMetadata } from '@gbc/datastore';
import { NARINFO_CONTENT_TYPE } from '@gbc/store';
import { isCompression, type Compression } from '../compression/compression.js';
import { HttpError, notFound } from '../http/http-error.js';
import { narStorageKey } from '../storage/nar-key.js';
import type { Storage } from '../storage/index.js';
import { parseRange } from './byte-range.js';
import type { CacheFlavour, ResolvedCacheOptions } from './cache-options.js';
import { isNotModified, isRangeStillValid, type Validators } from './http-conditions.js';
import type { HeldOutput } from './narinfo-cache.js';

/** A request as the replies need it: the method and the headers (lower-case names). */
export interface CacheRequest {
  readonly method: string;
  header(name: string): string | undefined;
}

/** Response headers, ready for `writeHead` or `new Response`. */
export type ReplyHeaders = Record<string, string>;

/** An answer: bytes (or none), or a part of a stored NAR file. */
export type CacheReply =
  | { readonly status: number; readonly headers: ReplyHeaders; readonly body: Buffer | null }
  | {
      readonly status: 200 | 206;
      readonly headers: ReplyHeaders;
      readonly file: { readonly key: string; readonly start: number; readonly end: number };
    };

/** The caching part of the options. */
export type CachePolicy = Pick<ResolvedCacheOptions, 'narinfoMaxAge' | 'negativeMaxAge'>;

/** Store path basename: 32 nix32 characters, `-`, a name (as storage/nar-key.ts keys them). */
const BASENAME = /^([0-9a-df-np-sv-z]{32})-[A-Za-z0-9+\-._?=]{1,211}$/;

/** True for a store path basename, the only NAR names served. */
export function isStoreBasename(name: string): boolean {
  return BASENAME.test(name);
}

/** The hash part of a NAR file name, or a 400 for anything that is not a store path basename. */
export function narHashPart(name: string): string {
  const m = BASENAME.exec(name);
  if (m === null)
    throw new HttpError(
      'bad-request',
      `${JSON.stringify(name.slice(0, 80))} is not a store path basename (<32 nix-base32 characters>-<name>)`,
    );
  return m[1]!;
}

/** The answer to `GET|HEAD /<hashPart>.narinfo` for `held` (null: no such output). */
export function narInfoReply(
  req: CacheRequest,
  hashPart: string,
  held: HeldOutput | null,
  flavour: CacheFlavour,
  policy: CachePolicy,
): CacheReply {
  const rendered = held?.narinfo(flavour) ?? null;
  if (rendered === null) return errorReply(notFound('store path with hash', hashPart), policy.negativeMaxAge);
  const headers: ReplyHeaders = {
    'Content-Type': NARINFO_CONTENT_TYPE,
    'Cache-Control': `public, max-age=${policy.narinfoMaxAge}`,
    ETag: rendered.etag,
    'Last-Modified': rendered.lastModifiedText,
  };
  if (isNotModified(conditions(req), rendered)) return { status: 304, headers, body: null };
  headers['Content-Length'] = String(rendered.body.length);
  return { status: 200, headers, body: req.method === 'HEAD' ? null : rendered.body };
}

/**
 * The answer to `GET|HEAD /nar/<compression>/<name>` (or `/nar/<name>`,
 * uncompressed) for `held`: the stored file, whole or the range asked for; or,
 * when the storage serves it directly (an object store's presigned URL), a
 * redirect there, which then answers ranges and conditions itself.
 */
export async function narReply(
  req: CacheRequest,
  storage: Pick<Storage, 'stat' | 'directUrl'>,
  held: HeldOutput | null,
  compression: Compression,
  name: string,
  policy: CachePolicy,
): Promise<CacheReply> {
  const key = held === null ? null : fileKey(held.meta, name, compression);
  const direct = key === null ? null : ((await storage.directUrl?.('nar', key)) ?? null);
  // The URL expires: the redirect is not to be kept.
  if (direct !== null)
    return { status: 302, headers: { Location: direct, 'Cache-Control': 'no-store' }, body: null };
  const stat = key === null ? null : await storage.stat('nar', key);
  if (key === null || stat === null) return errorReply(notFound(`${compression} NAR`, name), 0);
  const validators: Validators = {
    etag: `"${stat.size.toString(16)}-${stat.modifiedAt.getTime().toString(16)}"`,
    lastModified: Math.floor(stat.modifiedAt.getTime() / 1000) * 1000,
  };
  const headers: ReplyHeaders = {
    'Content-Type': 'application/x-nix-nar',
    'Cache-Control': `public, max-age=${policy.narinfoMaxAge}`,
    'Accept-Ranges': 'bytes',
    ETag: validators.etag,
    'Last-Modified': httpDate(validators.lastModified),
  };
  const asked = conditions(req);
  if (isNotModified(asked, validators)) return { status: 304, headers, body: null };
  // Ranges apply to GET only (RFC 9110 §14.2); HEAD describes the whole file.
  const range =
    req.method === 'GET' && isRangeStillValid(asked, validators)
      ? parseRange(req.header('range'), stat.size)
      : ({ kind: 'whole' } as const);
  if (range.kind === 'unsatisfiable') {
    const reply = errorReply(
      new HttpError(
        'range-not-satisfiable',
        `the range ${JSON.stringify(req.header('range'))} is past the end`,
        {
          details: { size: stat.size },
        },
      ),
      0,
    );
    reply.headers['Content-Range'] = `bytes */${stat.size}`;
    return reply;
  }
  if (range.kind === 'part') {
    headers['Content-Range'] = `bytes ${range.start}-${range.end - 1}/${stat.size}`;
    headers['Content-Length'] = String(range.end - range.start);
    return { status: 206, headers, file: { key, start: range.start, end: range.end } };
  }
  headers['Content-Length'] = String(stat.size);
  if (req.method === 'HEAD') return { status: 200, headers, body: null };
  return { status: 200, headers, file: { key, start: 0, end: stat.size } };
}

/** An error answer with the protocol's JSON body; `maxAge` > 0 lets clients keep it that many seconds. */
export function errorReply(
  error: HttpError,
  maxAge: number,
): { status: number; headers: ReplyHeaders; body: Buffer } {
  const body = Buffer.from(JSON.stringify(error.toBody()));
  const headers: ReplyHeaders = {
    'Content-Type': 'application/json',
    'Content-Length': String(body.length),
    'Cache-Control': maxAge > 0 ? `max-age=${maxAge}` : 'no-store',
  };
  return { status: error.status, headers, body };
}

/** The storage key of `meta`'s file in `compression`, if the name matches and such a file is stored. */
function fileKey(meta: OutputMetadata, name: string, compression: Compression): string | null {
  if (meta.storePath.slice(meta.storePath.lastIndexOf('/') + 1) !== name) return null;
  const file = meta.files.find((f) => f.compression === compression);
  if (file === undefined || !isCompression(file.compression)) return null;
  return file.location ?? narStorageKey(meta.storePath, compression);
}

function conditions(req: CacheRequest) {
  return {
    ifNoneMatch: req.header('if-none-match'),
    ifModifiedSince: req.header('if-modified-since'),
    ifRange: req.header('if-range'),
  };
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
