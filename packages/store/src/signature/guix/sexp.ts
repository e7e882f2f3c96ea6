// The s-expression data model of libgcrypt keys and signatures: atoms are byte
// strings, lists hold atoms and lists. Helpers to build and take them apart.

/** One libgcrypt s-expression: an atom (bytes) or a list. */
export type Sexp = Uint8Array | SexpList;

/** A parenthesised list of s-expressions. */
export type SexpList = readonly Sexp[];

/** True when `x` is a list (not an atom). */
export function isSexpList(x: Sexp): x is SexpList {
  return !(x instanceof Uint8Array);
}

/** An atom holding the UTF-8 bytes of `text` (a token such as `ecc` or `Ed25519`). */
export function sexpAtom(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** Reads an atom as text (latin1, so any bytes survive), or `undefined` for a list. */
export function sexpAtomText(x: Sexp | undefined): string | undefined {
  return x instanceof Uint8Array ? Buffer.from(x).toString('latin1') : undefined;
}

/** The list's first element as text: its tag (`public-key`, `ecc`, `q`, …). */
export function sexpTag(x: Sexp): string | undefined {
  return isSexpList(x) ? sexpAtomText(x[0]) : undefined;
}

/**
 * Finds the first sub-list tagged `tag`, searching `x` itself and then its
 * elements depth-first (libgcrypt's `gcry_sexp_find_token`).
 */
export function findSexpToken(x: Sexp, tag: string): SexpList | undefined {
  if (!isSexpList(x)) return undefined;
  if (sexpTag(x) === tag) return x;
  for (const item of x.slice(1)) {
    const found = findSexpToken(item, tag);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The atom after the tag of `(tag value …)`, or `undefined` when there is none. */
export function sexpValue(list: SexpList | undefined): Uint8Array | undefined {
  const v = list?.[1];
  return v instanceof Uint8Array ? v : undefined;
}

/** Structural equality of two s-expressions (same shape, same bytes). */
export function sexpEqual(a: Sexp, b: Sexp): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  return a.length === b.length && a.every((x, i) => sexpEqual(x, b[i] as Sexp));
}
