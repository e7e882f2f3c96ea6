// Conditional requests on the cache's answers (RFC 9110 §13): If-None-Match
// (a client revalidating its narinfo or NAR by ETag), If-Modified-Since (by
// date; ignored when If-None-Match is present, as the RFC says) and If-Range
// (resume a download only if the file is still the one partly received).
// Headers are bounded and compared without building large lists.

/** The validators of an answer. */
export interface Validators {
  /** A strong entity tag, quoted: `"…"`. */
  readonly etag: string;
  /** Milliseconds since the epoch, whole seconds (as HTTP dates carry). */
  readonly lastModified: number;
}

/** The request headers that make a request conditional. */
export interface ConditionalHeaders {
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly ifRange?: string;
}

/** Longest If-None-Match considered; past it the header is ignored (the full answer is sent). */
const MAX_IF_NONE_MATCH = 4096;

/** True when a GET or HEAD with these headers may be answered 304 Not Modified. */
export function isNotModified(headers: ConditionalHeaders, current: Validators): boolean {
  const inm = headers.ifNoneMatch;
  if (inm !== undefined) return inm.length <= MAX_IF_NONE_MATCH && matchesAny(inm, current.etag);
  const since = parseHttpDate(headers.ifModifiedSince);
  return since !== null && current.lastModified <= since;
}

/** True when a Range may be honoured: no If-Range, or one naming the current strong ETag or exact date. */
export function isRangeStillValid(headers: ConditionalHeaders, current: Validators): boolean {
  const ifRange = headers.ifRange?.trim();
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === current.etag;
  return parseHttpDate(ifRange) === current.lastModified;
}

/** An HTTP date (IMF-fixdate, or what Date.parse reads) in whole-second ms, or null. */
export function parseHttpDate(value: string | undefined): number | null {
  if (value === undefined || value.length > 64) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000) * 1000;
}

/** `If-None-Match: "a", W/"b"` or `*`: weak comparison (§8.8.3.2), as 304 decisions use. */
function matchesAny(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}
