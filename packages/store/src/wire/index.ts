export { ByteReader, paddingOf, type ByteSource } from './byte-reader.js';
export { encodeBytes, encodeStringList, encodeU64, padding } from './byte-writer.js';
