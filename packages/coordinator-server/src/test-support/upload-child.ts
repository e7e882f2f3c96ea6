// A coordinator stand-in for the crash test: receives one NAR upload from its
// standard input into a data directory, then prints the result as JSON.
// Usage: upload-child.ts DATA-DIR UPLOAD-ID KEY COMPRESSION NAR-HASH NAR-SIZE
import { parseCompression } from '../compression/compression.js';
import { createDataDirStorage } from '../storage/data-dir-storage.js';
import { createNarUploads } from '../storage/nar-uploads.js';

const [root, uploadId, key, compression, narHash, narSize] = process.argv.slice(2);
if (narSize === undefined)
  throw new Error('usage: upload-child.ts DATA-DIR UPLOAD-ID KEY COMPRESSION NAR-HASH NAR-SIZE');
const storage = await createDataDirStorage(root!);
const uploads = await createNarUploads({ storage });
const stored = await uploads.receive({
  uploadId: uploadId!,
  key: key!,
  compression: parseCompression(compression!),
  narHash: narHash!,
  narSize: Number(narSize),
  body: process.stdin,
});
process.stdout.write(`${JSON.stringify(stored)}\n`);
