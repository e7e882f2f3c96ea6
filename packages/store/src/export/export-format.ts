// Constants and metadata of the legacy export format: per path `u64 1`, the
// NAR, `u64 0x4558494e`, the path, its references, its deriver, a signature
// flag (with Guix, 1 and a signature); `u64 0` after the last path.

/** The marker after each path's NAR ("NIXE" read as a little-endian u64). */
export const EXPORT_MAGIC = 0x4558494e;

/** Longest store path accepted, in bytes. */
export const MAX_EXPORT_PATH_BYTES = 4096;

/** Most references accepted for one path. */
export const MAX_EXPORT_REFERENCES = 1 << 20;

/** Longest signature accepted (Guix writes a canonical s-expression), in bytes. */
export const MAX_EXPORT_SIGNATURE_BYTES = 1 << 16;

/** What an export stream says about one path (besides its NAR). */
export interface ExportedPathInfo {
  /** Full store path, e.g. `/gnu/store/…-hello-2.12`. */
  readonly path: string;
  /** Full store paths it refers to, as written (Nix writes them sorted). */
  readonly references: readonly string[];
  /** Full path of the deriver, or undefined (written as an empty string). */
  readonly deriver: string | undefined;
  /** Guix's signature (flag 1 and the signature string), or undefined (flag 0). */
  readonly signature?: Uint8Array | undefined;
}
