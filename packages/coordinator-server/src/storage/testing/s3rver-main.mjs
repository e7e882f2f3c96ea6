// Runs s3rver (an S3 API server on local files) for the object-storage tests,
// with the fixes ../shared/ENVIRONMENT.md lists: started under
// `node --openssl-legacy-provider` (ListObjectsV2 pagination uses DES), and an
// AbortMultipartUpload that works (s3rver 3.7.1 answers it 405).
// Usage: node --openssl-legacy-provider s3rver-main.mjs DIR BUCKET
// Prints one JSON line {"port","uploadsDir"} once listening on 127.0.0.1:0;
// exits on SIGTERM or when its standard input closes (the parent is gone).
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  process.stderr.write('usage: s3rver-main.mjs DIR BUCKET\n');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});

/** DELETE /bucket/key?uploadId=…: removes the upload's part directory (what a real S3 does). */
async function abortMultipartUpload(ctx, next) {
  const uploadId = ctx.query.uploadId;
  if (ctx.method !== 'DELETE' || typeof uploadId !== 'string') return next();
  const bucketName = decodeURIComponent(ctx.path.split('/')[1] || '');
  if (!/^[0-9a-f]+$/.test(uploadId)) return noSuchUpload(ctx);
  const dir = join(ctx.app.store.getResourcePath(bucketName, undefined, 'uploads'), uploadId);
  try {
    await stat(dir);
  } catch {
    return noSuchUpload(ctx);
  }
  await rm(dir, { recursive: true, force: true });
  ctx.status = 204;
}

function noSuchUpload(ctx) {
  ctx.status = 404;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
    '<Message>The specified upload does not exist.</Message></Error>';
}

// Before s3rver's router (Koa composes its middleware list when it starts listening).
server.middleware.unshift(abortMultipartUpload);

server.run().then(
  ({ port }) => {
    const uploadsDir = server.store.getResourcePath(bucket, undefined, 'uploads');
    process.stdout.write(`${JSON.stringify({ port, uploadsDir })}\n`);
  },
  (error) => {
    process.stderr.write(`s3rver failed to start: ${error && error.stack}\n`);
    process.exit(1);
  },
);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
