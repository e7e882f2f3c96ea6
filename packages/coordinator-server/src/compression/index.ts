// Public entry of the compression module: names and streaming codecs.
export {
  COMPRESSIONS,
  compressionExtension,
  isCompression,
  parseCompression,
  type Compression,
} from './compression.js';
export { createCompressor, createDecompressor, createPartialGunzip, type CompressOptions } from './codecs.js';
export {
  createProgramFilter,
  type ProgramFilterOptions,
  type ProgramFilterStream,
} from './child-process-filter.js';
