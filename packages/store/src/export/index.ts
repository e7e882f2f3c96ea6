// The legacy export format (nix-store --export, guix export-path): writer,
// streaming reader, restore into a directory.
export { ExportError } from './errors.js';
// EXPORT_MAGIC (0x4558494e) is exported once, by daemon/index.ts.
export {
  MAX_EXPORT_PATH_BYTES,
  MAX_EXPORT_REFERENCES,
  MAX_EXPORT_SIGNATURE_BYTES,
  type ExportedPathInfo,
} from './export-format.js';
export { exportSignedHash, exportSignedTrailer } from './export-signature.js';
export { exportItemFromFs, writeExport, type ExportItem } from './export-writer.js';
export {
  drainNar,
  readExport,
  type ExportedPath,
  type NarConsumer,
  type ReadExportOptions,
} from './export-reader.js';
export { restoreExport } from './export-restore.js';
