// Writes s-expressions byte for byte as libgcrypt's gcry_sexp_sprint does:
// the canonical form (`(3:ecc…)`) and the advanced, readable form that Guix
// puts in key files and (base64-encoded) in narinfo signatures.
import type { Sexp } from './sexp.js';
import { isSexpList } from './sexp.js';

/** Which libgcrypt text form to write. */
export type SexpForm = 'advanced' | 'canonical';

const TOKEN_CHARS = /^[A-Za-z0-9\-./_:*+=]+$/;
const ESCAPES: Readonly<Record<number, string>> = {
  8: '\\b',
  9: '\\t',
  11: '\\v',
  10: '\\n',
  12: '\\f',
  13: '\\r',
  34: '\\"',
  39: "\\'",
  92: '\\\\',
};

type Piece =
  | { readonly kind: 'open' }
  | { readonly kind: 'close' }
  | { readonly kind: 'atom'; readonly bytes: Uint8Array };

/**
 * Writes `x` in the given form (default `advanced`). The advanced form puts
 * every nested list on a new line indented by its depth, a space after each
 * atom that is not last in its list, a newline before a closing parenthesis
 * that follows a list, and a final newline — exactly what Guix writes.
 */
export function writeSexp(x: Sexp, form: SexpForm = 'advanced'): Uint8Array {
  const pieces: Piece[] = [];
  flatten(x, pieces);
  const out: Buffer[] = [];
  let depth = 0;
  pieces.forEach((piece, i) => {
    const next = pieces[i + 1];
    if (piece.kind === 'open') {
      if (form === 'advanced' && depth > 0) out.push(Buffer.from(`\n${' '.repeat(depth)}`));
      out.push(Buffer.from('('));
      depth += 1;
    } else if (piece.kind === 'close') {
      out.push(Buffer.from(')'));
      depth -= 1;
      if (form === 'advanced' && next !== undefined && next.kind !== 'open')
        out.push(Buffer.from(`\n${' '.repeat(depth)}`));
    } else if (form === 'canonical') {
      out.push(Buffer.from(`${piece.bytes.length}:`), Buffer.from(piece.bytes));
    } else {
      out.push(encodeAtom(piece.bytes));
      if (next !== undefined && next.kind !== 'close') out.push(Buffer.from(' '));
    }
  });
  if (form === 'advanced') out.push(Buffer.from('\n'));
  return new Uint8Array(Buffer.concat(out));
}

function flatten(x: Sexp, into: Piece[]): void {
  if (!isSexpList(x)) {
    into.push({ kind: 'atom', bytes: x });
    return;
  }
  into.push({ kind: 'open' });
  for (const item of x) flatten(item, into);
  into.push({ kind: 'close' });
}

/** libgcrypt's choice for an atom: a token, a quoted string, or `#HEX#`. */
function encodeAtom(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  if (b.length === 0) return Buffer.from('""');
  // A leading high bit reads as a negative number, a leading zero as binary.
  if ((b[0] as number) & 0x80 || b[0] === 0) return hex(b);
  // libgcrypt looks each byte up with strchr, which also finds a NUL: a NUL
  // inside an atom neither makes it binary nor stops it being a token.
  for (const c of b) {
    if (isControl(c) && ESCAPES[c] === undefined && c !== 0) return hex(b);
  }
  const text = b.toString('latin1').replaceAll('\0', 'a');
  if (TOKEN_CHARS.test(text) && !/^[0-9]/.test(text)) return b;
  const parts = [...b].map((c) =>
    Buffer.from(
      ESCAPES[c] ?? (isControl(c) ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c)),
      'latin1',
    ),
  );
  return Buffer.concat([Buffer.from('"'), ...parts, Buffer.from('"')]);
}

function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0xa0);
}

function hex(b: Buffer): Buffer {
  return Buffer.from(`#${b.toString('hex').toUpperCase()}#`);
}
