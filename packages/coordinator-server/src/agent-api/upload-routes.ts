// Agent-port upload routes: the live build log (resent idempotently with
// ?offset=, its progress asked by log-progress) and output NARs (verified,
// resumable with ?offset=, through the storage layer's NarUploads; a fixed
// output also against the hash its derivation declares, and the declared
// references against the build's closure and the NAR: output-references.ts).
import type { Hono, MiddlewareHandler } from 'hono';
import { agentRoutes, parseUploadHeaders, fromZodError } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { observedUpload } from '../http/observed-upload.js';
import { drainOnRefusal, requestBody } from '../http/request-body.js';
import { mountRoute } from '../http/validate.js';
import { logKey, narStorageKey } from '../storage/index.js';
import type { AgentEnv } from './agent-auth.js';
import { heldAttempt } from './attempt-access.js';
import { checkFixedOutput, fixedHashOf } from './fixed-output.js';
import { referenceCandidates, referenceInspector } from './output-references.js';
import type { UploadedOutputs } from './uploaded-outputs.js';

export { logKey };

/** Mounts the log and output upload routes. */
export function mountUploadRoutes(
  app: Hono<AgentEnv>,
  ctx: CoordinatorContext,
  auth: MiddlewareHandler<AgentEnv>,
  uploaded: UploadedOutputs,
): void {
  const db = ctx.datastore.db;
  const before = { before: [auth] };

  mountRoute(
    app,
    agentRoutes.uploadLog,
    (c, { params, query }) => {
      // A refusal (offset past the log, sealed log, attempt ended) drains the rest of the body.
      const body = requestBody(c.req.raw);
      return drainOnRefusal(c, body, async () => {
        const held = await heldAttempt(db, params.uuid, c.get('agentId'));
        const key = logKey(held.buildId, held.attemptId);
        await observedUpload(ctx, 'log', body, (chunks) =>
          ctx.storage.logs.append(key, chunks, { offset: query.offset }),
        );
        return c.body(null, 204);
      });
    },
    before,
  );

  mountRoute(
    app,
    agentRoutes.logUploadProgress,
    async (c, { params }) => {
      const held = await heldAttempt(db, params.uuid, c.get('agentId'));
      const { bytes, sealed } = await ctx.storage.logs.length(logKey(held.buildId, held.attemptId));
      return c.json({ bytesReceived: bytes, sealed }, 200);
    },
    before,
  );

  mountRoute(
    app,
    agentRoutes.uploadOutput,
    (c, { params, query }) => {
      // Any refusal, before or while the NAR is read, drains the rest of the body.
      const body = requestBody(c.req.raw);
      return drainOnRefusal(c, body, async () => {
        const held = await heldAttempt(db, params.uuid, c.get('agentId'));
        const meta = parseUploadHeaders((n) => c.req.header(n));
        if (!meta.success) {
          const p = fromZodError('upload headers', meta.error);
          throw new HttpError('bad-request', p.message, { details: p.details });
        }
        const out = await db
          .selectFrom('derivation_outputs as o')
          .innerJoin('derivations as d', 'd.id', 'o.derivation_id')
          .select(['o.path', 'o.hash_algo', 'o.hash'])
          .where('d.path', '=', held.derivationPath)
          .where('o.name', '=', params.name)
          .executeTakeFirst();
        if (out === undefined)
          throw new HttpError('not-found', `derivation ${held.derivationPath} has no output ${params.name}`);
        const storeDir = out.path.slice(0, out.path.lastIndexOf('/'));
        const key = narStorageKey(out.path, meta.data.compression, meta.data.narHash);
        const references = meta.data.references.map((r) => `${storeDir}/${r}`);
        const inspector = referenceInspector(
          out.path,
          references,
          await referenceCandidates(db, held.derivationPath),
        );
        const stored = await observedUpload(ctx, 'nar', body, (chunks) =>
          ctx.storage.nars.receive({
            uploadId: `${held.buildId}-${params.name}`,
            key,
            compression: meta.data.compression,
            narHash: meta.data.narHash,
            narSize: meta.data.narSize,
            offset: query.offset,
            body: chunks,
            inspector,
          }),
        );
        const fixed = fixedHashOf(out.hash_algo, out.hash);
        if (fixed !== null) await checkFixedOutput(ctx.storage.store, stored, fixed, out.path);
        await uploaded.save(held.buildId, {
          output: params.name,
          metadata: {
            storePath: out.path,
            narHash: stored.narHash,
            narSize: stored.narSize,
            references,
            deriver:
              meta.data.deriver === undefined ? held.derivationPath : `${storeDir}/${meta.data.deriver}`,
            files: [
              {
                compression: stored.compression,
                fileSize: stored.fileSize,
                fileHash: stored.fileHash,
                location: stored.key,
              },
            ],
          },
        });
        return c.json(
          {
            path: out.path,
            narHash: stored.narHash,
            narSize: stored.narSize,
            compression: stored.compression,
            fileSize: stored.fileSize,
          },
          200,
        );
      });
    },
    before,
  );

  mountRoute(
    app,
    agentRoutes.outputUploadProgress,
    async (c, { params }) => {
      const held = await heldAttempt(db, params.uuid, c.get('agentId'));
      const done = await uploaded.load(held.buildId, params.name);
      if (done !== undefined)
        return c.json({ bytesReceived: done.metadata.files[0]?.fileSize ?? 0, complete: true }, 200);
      const status = await ctx.storage.nars.status(`${held.buildId}-${params.name}`);
      return c.json({ bytesReceived: status?.received ?? 0, complete: false }, 200);
    },
    before,
  );
}
