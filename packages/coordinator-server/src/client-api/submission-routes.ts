// Submission routes of the client API: which paths the coordinator lacks,
// derivation uploads (JSON batch or one raw text), input-source NAR uploads,
// reading a held derivation back, and `POST /builds`.
import { findMissingDerivations, getDerivation, outputMetadataFor, recordOutputMetadata } from '@gbc/datastore';
import { buildRoutes, decodeDerivationText, parseUploadHeaders, fromZodError } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { HttpError, notFound } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import { narStorageKey } from '../storage/index.js';
import type { ClientAppOptions } from './app-options.js';
import { bodyStream, readBodyBytes } from './body-bytes.js';
import { acceptDerivations } from './derivation-intake.js';
import { createModuloHashCache } from './modulo-hashes.js';
import { submitBuild } from './submit-build.js';

/** Mounts the submission routes on `app`. */
export function mountSubmissionRoutes(app: Hono<{ Variables: object }>, ctx: CoordinatorContext, options: ClientAppOptions = {}): void {
  const db = ctx.datastore.db;
  const storeDir = options.storeDir ?? '/gnu/store';
  const cache = options.moduloHashes ?? createModuloHashCache();
  const jsonBodyBytes = ctx.config.jsonBodyBytes;

  mountRoute(app, buildRoutes.missingPaths, async (c, { body }) => {
    const drvs = body.paths.filter((p) => p.endsWith('.drv'));
    const others = body.paths.filter((p) => !p.endsWith('.drv'));
    const missingDrvs = new Set(await findMissingDerivations(db, drvs));
    const held = new Set((await outputMetadataFor(db, others)).map((m) => m.storePath));
    const missing = [...new Set(body.paths)].filter((p) => (p.endsWith('.drv') ? missingDrvs.has(p) : !held.has(p)));
    return c.json({ missing });
  }, { jsonBodyBytes });

  mountRoute(app, buildRoutes.uploadDerivations, async (c, { body }) => {
    const stored = await acceptDerivations(db, body.derivations.map((d) => ({ path: d.path, bytes: decodeDerivationText(d.text) })), cache);
    return c.json({ stored });
  }, { jsonBodyBytes });

  mountRoute(app, buildRoutes.putDerivation, async (c, { params }) => {
    const bytes = await readBodyBytes(c.req.raw, options.derivationBytes ?? jsonBodyBytes);
    const stored = await acceptDerivations(db, [{ path: `${storeDir}/${params.name}`, bytes }], cache);
    return c.json({ stored });
  });

  mountRoute(app, buildRoutes.getDerivation, async (c, { params }) => {
    for (const dir of new Set([storeDir, '/gnu/store', '/nix/store'])) {
      const drv = await getDerivation(db, `${dir}/${params.name}`);
      if (drv !== undefined) return c.body(Buffer.from(drv.text), 200, { 'Content-Type': 'application/octet-stream' });
    }
    throw notFound('derivation', params.name);
  });

  mountRoute(app, buildRoutes.putSource, async (c, { params }) => {
    const meta = parseUploadHeaders((name) => c.req.header(name));
    if (!meta.success) {
      const p = fromZodError('upload headers', meta.error);
      throw new HttpError('bad-request', p.message, { details: p.details });
    }
    const storePath = `${storeDir}/${params.name}`;
    const references = meta.data.references.map((r) => `${storeDir}/${r}`);
    const others = references.filter((r) => r !== storePath);
    const held = new Set((await outputMetadataFor(db, others)).map((m) => m.storePath));
    const lacking = others.filter((r) => !held.has(r));
    if (lacking.length > 0) {
      throw new HttpError('missing-references', `input source ${storePath} refers to store paths the coordinator does not hold: ${lacking.join(', ')}; upload them first`, { details: { missing: lacking } });
    }
    const key = narStorageKey(storePath, meta.data.compression);
    const nar = await ctx.storage.nars.receive({
      uploadId: `source-${params.name.slice(0, 32)}`,
      key,
      compression: meta.data.compression,
      narHash: meta.data.narHash,
      narSize: meta.data.narSize,
      body: bodyStream(c.req.raw),
    });
    await recordOutputMetadata(db, [{
      storePath,
      narHash: nar.narHash,
      narSize: nar.narSize,
      references,
      deriver: meta.data.deriver === undefined ? null : `${storeDir}/${meta.data.deriver}`,
      files: [{ compression: nar.compression, fileSize: nar.fileSize, fileHash: nar.fileHash, location: nar.key }],
    }], ctx.clock.now());
    ctx.scheduler.notifyPathsAvailable([storePath]);
    return c.json({ path: storePath, narHash: nar.narHash, narSize: nar.narSize, compression: nar.compression, fileSize: nar.fileSize });
  });

  mountRoute(app, buildRoutes.submitBuild, async (c, { body }) => c.json(await submitBuild(ctx, body)), { jsonBodyBytes });
}
