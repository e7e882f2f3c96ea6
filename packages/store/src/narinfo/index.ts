// narinfo: the metadata file of a binary cache entry (Nix and Guix flavours) and nix-cache-info.
export { NarInfoError } from './narinfo-error.js';
export type { NarInfoErrorDetails } from './narinfo-error.js';
export { NARINFO_CONTENT_TYPE } from './narinfo-types.js';
export type { NarFile, NarInfo, NarInfoFlavour } from './narinfo-types.js';
export { parseNarInfo } from './parse-narinfo.js';
export type { ParseNarInfoOptions } from './parse-narinfo.js';
export { writeNarInfo } from './write-narinfo.js';
export { NIX_CACHE_INFO_CONTENT_TYPE, parseNixCacheInfo, writeNixCacheInfo } from './nix-cache-info.js';
export { guixSignedText } from './guix-signed-text.js';
