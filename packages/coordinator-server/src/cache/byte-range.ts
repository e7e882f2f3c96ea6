// The `Range` request header of a NAR download (RFC 9110 §14): one byte range,
// `bytes=first-last`, `bytes=first-` or the suffix `bytes=-length`, checked
// against the file's size. What a resumed download sends (curl, Nix, Guix).
// Anything else is ignored — a malformed header, another unit, or more than
// one range (allowed by §14.2; the whole file is answered, as nginx does with
// `max_ranges 1`) — so a hostile header costs one bounded parse.

/** What a Range header asks of a file of a known size. */
export type RangeRequest =
  | { readonly kind: 'whole' }
  | { readonly kind: 'part'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/** Longest header considered; Node already bounds all headers at 16 KiB. */
const MAX_HEADER = 256;
const ONE_RANGE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/**
 * Resolves `header` against a file of `size` bytes. A `part` has `end`
 * exclusive and lies within the file; `unsatisfiable` (answer 416) when the
 * one range asked for starts at or past the end, or is an empty suffix.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined || header.length > MAX_HEADER) return { kind: 'whole' };
  const m = ONE_RANGE.exec(header);
  if (m === null) return { kind: 'whole' };
  const [first, last] = [m[1]!, m[2]!];
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    const length = toNumber(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - length), end: size };
  }
  const start = toNumber(first);
  if (last !== '' && toNumber(last) < start) return { kind: 'whole' }; // syntactically invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end: last === '' ? size : Math.min(toNumber(last) + 1, size) };
}

/** Digits to a number; beyond what a file can hold, saturated (so `bytes=0-99999…` means "to the end"). */
function toNumber(digits: string): number {
  return digits.length > 15 ? Number.MAX_SAFE_INTEGER : Number(digits);
}
