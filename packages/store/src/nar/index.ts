// NAR (Nix ARchive): streaming writer, validating reader, restore, listing,
// one-NAR copy out of a longer stream, and NarHash/NarSize.
export { NarError } from './errors.js';
export { MAX_NAME_BYTES, MAX_PATH_BYTES, MAX_TARGET_BYTES, NAR_MAGIC } from './nar-tokens.js';
export { DEFAULT_BATCH_BYTES, NarEncoder } from './nar-encoder.js';
export { dumpNar, type DumpNarOptions, type NarDump } from './nar-writer.js';
export { NarContents } from './nar-contents.js';
export { regularFileOfNar } from './nar-single-file.js';
export {
  parseNar,
  type NarDirectory,
  type NarEntry,
  type NarRegular,
  type NarSymlink,
  type ParseNarOptions,
} from './nar-parser.js';
export { restoreNar, type RestoreNarOptions } from './nar-restore.js';
export { listNar, type ListNarOptions, type NarListEntry } from './nar-list.js';
export { copyNar, type CopyNarOptions } from './nar-copy.js';
export { NarHasher, formatNarHash, hashNar, tapNarHash, type NarDigest } from './nar-hash.js';
