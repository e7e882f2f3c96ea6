// Typed errors of @gbc/store: every refusal names a code, where it happened,
// what was expected and what was found.

/** Details carried by every store-format error. */
export interface StoreErrorDetails {
  /** Byte offset in the input where the problem was found, when known. */
  readonly offset?: number;
  /** The field, entry or path concerned, when there is one. */
  readonly field?: string;
  /** What the rule expected. */
  readonly expected?: string;
  /** What was found instead. */
  readonly found?: string;
  readonly cause?: unknown;
}

/** Base class: a store format or protocol rule was broken. `code` is stable. */
export class StoreError extends Error {
  readonly code: string;
  readonly offset: number | undefined;
  readonly field: string | undefined;
  readonly expected: string | undefined;
  readonly found: string | undefined;

  constructor(code: string, message: string, details: StoreErrorDetails = {}) {
    super(
      formatMessage(message, details),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.offset = details.offset;
    this.field = details.field;
    this.expected = details.expected;
    this.found = details.found;
  }
}

/** Nix base32, hex or base64 text that does not decode. */
export class EncodingError extends StoreError {}

/** A byte stream ended early or broke the length-prefixed framing. */
export class WireError extends StoreError {}

function formatMessage(message: string, d: StoreErrorDetails): string {
  const parts = [message];
  if (d.field !== undefined) parts.push(`in ${d.field}`);
  if (d.offset !== undefined) parts.push(`at byte ${d.offset}`);
  if (d.expected !== undefined) parts.push(`expected ${d.expected}`);
  if (d.found !== undefined) parts.push(`found ${d.found}`);
  return parts.join('; ');
}

/** Shows untrusted text in an error message: quoted, escaped and truncated to `max` characters. */
export function quote(text: string | Uint8Array, max = 60): string {
  const s = typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}
