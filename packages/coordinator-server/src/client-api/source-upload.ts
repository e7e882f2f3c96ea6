// `PUT /source/{name}`: an input source as a NAR. Its references must be held
// already; its NAR hash and size are verified while it is stored; its store
// path must be the one its content implies (source-path.ts). Only then is its
// metadata recorded, which publishes it to agents through the binary cache. A
// source already held is not received again (its stored file is never replaced).
import type { Readable } from 'node:stream';
import { getOutputMetadata, outputMetadataFor, recordOutputMetadata } from '@gbc/datastore';
import { buildRoutes, fromZodError, parseUploadHeaders } from '@gbc/protocol';
import type { StoredNar } from '@gbc/protocol';
import type { Context, Hono } from 'hono';
import { createDecompressor } from '../compression/index.js';
import type { Compression } from '../compression/index.js';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { observedUpload } from '../http/observed-upload.js';
import { drainOnRefusal, releaseBody, requestBody } from '../http/request-body.js';
import { mountRoute } from '../http/validate.js';
import { narStorageKey } from '../storage/index.js';
import { MAX_TEXT_SOURCE_NAR, isFilePathOf, isSourcePathOf } from './source-path.js';

/** Mounts `PUT /source/{name}` on `app`; sources are named under `storeDir`. */
export function mountSourceUpload(
  app: Hono<{ Variables: object }>,
  ctx: CoordinatorContext,
  storeDir: string,
): void {
  const db = ctx.datastore.db;
  mountRoute(app, buildRoutes.putSource, (c, { params }) => {
    // Any refusal, before or while the NAR is read, drains the rest of the body.
    const body = requestBody(c.req.raw);
    return drainOnRefusal(c, body, async () => {
      const meta = parseUploadHeaders((name) => c.req.header(name));
      if (!meta.success) {
        const p = fromZodError('upload headers', meta.error);
        throw new HttpError('bad-request', p.message, { details: p.details });
      }
      const storePath = `${storeDir}/${params.name}`;
      const held = await getOutputMetadata(db, storePath);
      if (held !== undefined) {
        await releaseBody(c, body);
        const file = held.files.find((f) => f.compression === meta.data.compression) ?? held.files[0];
        return answer(c, {
          path: storePath,
          narHash: held.narHash,
          narSize: held.narSize,
          compression: (file?.compression ?? 'none') as Compression,
          fileSize: file?.fileSize ?? held.narSize,
        });
      }
      const references = meta.data.references.map((r) => `${storeDir}/${r}`);
      const others = references.filter((r) => r !== storePath);
      const have = new Set((await outputMetadataFor(db, others)).map((m) => m.storePath));
      const lacking = others.filter((r) => !have.has(r));
      if (lacking.length > 0) {
        throw new HttpError(
          'missing-references',
          `input source ${storePath} refers to store paths the coordinator does not hold: ${lacking.join(', ')}; upload them first`,
          { details: { missing: lacking } },
        );
      }
      const bySource = isSourcePathOf(storePath, storeDir, meta.data.narHash, references);
      if (!bySource && meta.data.narSize > MAX_TEXT_SOURCE_NAR) throw mismatch(storePath);
      const key = narStorageKey(storePath, meta.data.compression, meta.data.narHash);
      const nar = await observedUpload(ctx, 'nar', body, (chunks) =>
        ctx.storage.nars.receive({
          uploadId: `source-${params.name.slice(0, 32)}`,
          key,
          compression: meta.data.compression,
          narHash: meta.data.narHash,
          narSize: meta.data.narSize,
          body: chunks,
        }),
      );
      if (
        !bySource &&
        !isFilePathOf(storePath, storeDir, await readBack(ctx, key, nar.compression), references)
      ) {
        await ctx.storage.store.delete('nar', key);
        throw mismatch(storePath);
      }
      await recordOutputMetadata(
        db,
        [
          {
            storePath,
            narHash: nar.narHash,
            narSize: nar.narSize,
            references,
            deriver: meta.data.deriver === undefined ? null : `${storeDir}/${meta.data.deriver}`,
            files: [
              {
                compression: nar.compression,
                fileSize: nar.fileSize,
                fileHash: nar.fileHash,
                location: nar.key,
              },
            ],
          },
        ],
        ctx.clock.now(),
      );
      ctx.scheduler.notifyPathsAvailable([storePath]);
      return answer(c, {
        path: storePath,
        narHash: nar.narHash,
        narSize: nar.narSize,
        compression: nar.compression,
        fileSize: nar.fileSize,
      });
    });
  });
}

function answer(c: Context, body: StoredNar): Response {
  return c.json(body, 200);
}

function mismatch(storePath: string): HttpError {
  return new HttpError(
    'bad-request',
    `the store path ${storePath} is not the one this NAR and these references make (as a source by NAR hash, a text file, or a flat fixed output); nothing was kept`,
  );
}

/** The uncompressed bytes of a stored NAR (at most MAX_TEXT_SOURCE_NAR, checked before the upload). */
async function readBack(ctx: CoordinatorContext, key: string, compression: Compression): Promise<Uint8Array> {
  const stored = await ctx.storage.store.get('nar', key);
  if (stored === null)
    throw new HttpError('internal', `the NAR ${key} vanished from storage right after it was stored`);
  const chunks: Buffer[] = [];
  for await (const chunk of stored.pipe(createDecompressor(compression)) as Readable)
    chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
