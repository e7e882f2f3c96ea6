// Submission routes of the client API: which paths the coordinator lacks,
// derivation uploads (JSON batch or one raw text), input-source NAR uploads,
// reading a held derivation back, and `POST /builds` (which first fetches a
// derivation it lacks from the derivation substitute servers, if any).
import { findMissingDerivations, getDerivation, outputMetadataFor } from '@gbc/datastore';
import { buildRoutes, decodeDerivationText } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { notFound } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import type { ClientAppOptions } from './app-options.js';
import { readBodyBytes } from './body-bytes.js';
import { acceptDerivations } from './derivation-intake.js';
import { createModuloHashCache } from './modulo-hashes.js';
import { mountSourceUpload } from './source-upload.js';
import { submitBuild } from './submit-build.js';
import { createDerivationSubstitutes } from '../substitutes/derivation-substitutes.js';

/** Mounts the submission routes on `app`. */
export function mountSubmissionRoutes(
  app: Hono<{ Variables: object }>,
  ctx: CoordinatorContext,
  options: ClientAppOptions = {},
): void {
  const db = ctx.datastore.db;
  const storeDir = ctx.config.storeDir;
  const cache = options.moduloHashes ?? createModuloHashCache();
  const jsonBodyBytes = ctx.config.jsonBodyBytes;
  const substitutes =
    options.derivationSubstitutes === undefined || options.derivationSubstitutes.urls.length === 0
      ? undefined
      : createDerivationSubstitutes(options.derivationSubstitutes);

  mountRoute(
    app,
    buildRoutes.missingPaths,
    async (c, { body }) => {
      const drvs = body.paths.filter((p) => p.endsWith('.drv'));
      const others = body.paths.filter((p) => !p.endsWith('.drv'));
      const missingDrvs = new Set(await findMissingDerivations(db, drvs));
      const held = new Set((await outputMetadataFor(db, others)).map((m) => m.storePath));
      const missing = [...new Set(body.paths)].filter((p) =>
        p.endsWith('.drv') ? missingDrvs.has(p) : !held.has(p),
      );
      return c.json({ missing });
    },
    { jsonBodyBytes },
  );

  mountRoute(
    app,
    buildRoutes.uploadDerivations,
    async (c, { body }) => {
      const stored = await acceptDerivations(
        db,
        body.derivations.map((d) => ({ path: d.path, bytes: decodeDerivationText(d.text) })),
        cache,
      );
      return c.json({ stored });
    },
    { jsonBodyBytes },
  );

  mountRoute(app, buildRoutes.putDerivation, async (c, { params }) => {
    const bytes = await readBodyBytes(c.req.raw, options.derivationBytes ?? jsonBodyBytes);
    const stored = await acceptDerivations(db, [{ path: `${storeDir}/${params.name}`, bytes }], cache);
    return c.json({ stored });
  });

  mountRoute(app, buildRoutes.getDerivation, async (c, { params }) => {
    for (const dir of new Set([storeDir, '/gnu/store', '/nix/store'])) {
      const drv = await getDerivation(db, `${dir}/${params.name}`);
      if (drv !== undefined)
        return c.body(Buffer.from(drv.text), 200, { 'Content-Type': 'application/octet-stream' });
    }
    throw notFound('derivation', params.name);
  });

  mountSourceUpload(app, ctx, storeDir);

  mountRoute(
    app,
    buildRoutes.submitBuild,
    async (c, { body }) => {
      if (substitutes !== undefined) {
        const fetched = await substitutes.fetchClosure([body.derivation], (paths) =>
          findMissingDerivations(db, paths),
        );
        if (fetched.length > 0) {
          await acceptDerivations(db, fetched, cache);
          ctx.logger.info('derivations fetched from substitute servers', {
            derivation: body.derivation,
            count: fetched.length,
          });
        }
      }
      return c.json(await submitBuild(ctx, body));
    },
    { jsonBodyBytes },
  );
}
