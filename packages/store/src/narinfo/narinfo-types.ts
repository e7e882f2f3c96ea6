// The data model of a narinfo, shared by the parser, the writer and signing.

/**
 * Content type under which Nix binary caches serve narinfos (`guix publish`
 * sends `application/x-nix-narinfo`; Nix and Guix clients accept either).
 */
export const NARINFO_CONTENT_TYPE = 'text/x-nix-narinfo';

/**
 * Which producer's layout a narinfo follows (the writer reproduces it byte for byte):
 * - `nix`: Nix's order; one URL group, `Sig:` lines, optional `CA`.
 * - `guix`: today's `guix publish`: the signed part (StorePath, NarHash, NarSize,
 *   References, Deriver), then `Signature:`, then one URL/Compression/FileSize
 *   group per compression.
 * - `guix-legacy`: older `guix publish`: StorePath, the URL groups, then NarHash,
 *   NarSize, References, Deriver and `Signature:`.
 */
export type NarInfoFlavour = 'nix' | 'guix' | 'guix-legacy';

/** One downloadable (possibly compressed) NAR of the store item. */
export interface NarFile {
  /** Relative or absolute URL of the file, e.g. `nar/<hash>.nar.xz` or `nar/lzip/<basename>`. */
  readonly url: string;
  /** `none`, `xz`, `bzip2`, `gzip`, `lzip`, `zstd`, …; a narinfo without the field means `bzip2`. */
  readonly compression: string;
  /** Hash of the file as written, `sha256:<nix32>` (Nix writes it; Guix does not). */
  readonly fileHash?: string;
  /** Size of the file in bytes. */
  readonly fileSize?: number;
}

/** A parsed narinfo: everything a binary cache says about one store item. */
export interface NarInfo {
  readonly flavour: NarInfoFlavour;
  /** Full store path, inside the store directory given to the parser. */
  readonly storePath: string;
  /** The NAR files on offer; exactly one for Nix, one per compression for Guix. */
  readonly files: readonly NarFile[];
  /** Hash of the uncompressed NAR, as written (`sha256:<nix32>`). */
  readonly narHash: string;
  /** Size of the uncompressed NAR in bytes (never 0). */
  readonly narSize: number;
  /** Basenames of the referenced store items, in written order (may be empty). */
  readonly references: readonly string[];
  /** Basename of the deriver (`…drv`), when known. */
  readonly deriver?: string;
  /** The system the item was built for, when written. */
  readonly system?: string;
  /** Nix signatures, `<key name>:<base64>`, one per `Sig:` line. */
  readonly sigs: readonly string[];
  /** Content address, e.g. `fixed:r:sha256:<nix32>` or `text:sha256:<nix32>`. */
  readonly ca?: string;
  /** Guix's `Signature:` value (`1;<host>;<base64 s-expression>`), kept as opaque text. */
  readonly guixSignature?: string;
}
