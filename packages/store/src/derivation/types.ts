// The in-memory derivation. Every string field is a "byte string": a JS
// string whose code units are the raw bytes (0-255, i.e. latin1-decoded), so
// that any byte sequence, UTF-8 or not, survives a round trip exactly and
// JS string comparison is byte order. Store paths and names are ASCII, hence
// read as usual; use byteStringToUtf8 to display env values.

/** One output: its path and, for fixed outputs, the hash algorithm (`sha256`, `r:sha256`, …) and hex hash. */
export interface DerivationOutput {
  readonly path: string;
  readonly hashAlgo: string;
  readonly hash: string;
}

/**
 * A parsed derivation (`Derive(...)`). Maps are keyed by byte strings; the
 * writer emits them sorted by key, and sorts and deduplicates `inputSrcs`
 * and each input derivation's output names, as Nix does.
 */
export interface Derivation {
  /** Output name → output. */
  readonly outputs: ReadonlyMap<string, DerivationOutput>;
  /** Input derivation path → the names of its outputs used. */
  readonly inputDrvs: ReadonlyMap<string, readonly string[]>;
  /** Input sources (store paths). */
  readonly inputSrcs: readonly string[];
  readonly system: string;
  readonly builder: string;
  readonly args: readonly string[];
  /** Environment variables. */
  readonly env: ReadonlyMap<string, string>;
}
