// The binary cache as a Hono app: nix-cache-info, narinfos, NARs (as stored,
// with Content-Length; HEAD too) and derivation logs, the way Nix binary
// caches and `guix publish` serve them. Mounted on the agent port and,
// optionally, served on a port of its own.
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { getOutputMetadataByHashPart, type OutputMetadata } from '@gbc/datastore';
import { cacheRoutes } from '@gbc/protocol';
import { NARINFO_CONTENT_TYPE, NIX_CACHE_INFO_CONTENT_TYPE, writeNixCacheInfo } from '@gbc/store';
import type { CoordinatorContext } from '../context.js';
import { HttpError, notFound } from '../http/http-error.js';
import { createErrorHandler, notFoundHandler } from '../http/on-error.js';
import { mountRoute } from '../http/validate.js';
import { narStorageKey } from '../storage/nar-key.js';
import { isCompression, type Compression } from '../compression/compression.js';
import type { CacheFlavour, ResolvedCacheOptions } from './cache-options.js';
import { narInfoText } from './cache-narinfo.js';
import { latestLogKey } from './derivation-log.js';

/** What the cache reads: the datastore and the stored NARs and logs. */
export type CacheContext = Pick<CoordinatorContext, 'datastore' | 'storage' | 'logger'>;

const BASENAME = /^([0-9a-df-np-sv-z]{32})-[A-Za-z0-9+\-._?=]{1,211}$/;

/** Creates the binary-cache app over `ctx` with resolved `options` (see `resolveCacheOptions`). */
export function createCacheApp(ctx: CacheContext, options: ResolvedCacheOptions): Hono {
  const app = new Hono();
  app.onError(createErrorHandler(ctx.logger));
  app.notFound(notFoundHandler);
  const cacheInfo = writeNixCacheInfo({
    storeDir: options.storeDir,
    wantMassQuery: options.wantMassQuery,
    priority: options.priority,
  });

  mountRoute(app, cacheRoutes.nixCacheInfo, (c) =>
    c.body(cacheInfo, 200, { 'Content-Type': NIX_CACHE_INFO_CONTENT_TYPE }),
  );

  mountRoute(app, cacheRoutes.narinfo, async (c, { params }) => {
    const hashPart = params.hash.replace(/\.narinfo$/, '');
    const flavour = requestedFlavour(c.req.query('flavour'), options.flavour);
    const meta = await getOutputMetadataByHashPart(ctx.datastore.db, hashPart);
    const text = meta === undefined ? null : narInfoText(meta, options, flavour);
    if (text === null) throw notFound('store path with hash', hashPart);
    return c.body(text, 200, { 'Content-Type': NARINFO_CONTENT_TYPE });
  });

  mountRoute(app, cacheRoutes.narCompressed, (c, { params }) =>
    serveNar(ctx, c, params.compression, params.name),
  );
  mountRoute(app, cacheRoutes.nar, (c, { params }) => serveNar(ctx, c, 'none', params.name));

  mountRoute(app, cacheRoutes.derivationLog, async (c, { params }) => {
    const key = await latestLogKey(ctx.datastore.db, `${options.storeDir}/${params.drv}`);
    const reading = key === null ? null : await ctx.storage.logs.read(key);
    if (reading === null) throw notFound('log of derivation', params.drv);
    const headers = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (c.req.method === 'HEAD') {
      reading.stream.destroy();
      return c.body(null, 200, headers);
    }
    return c.body(Readable.toWeb(reading.stream) as ReadableStream, 200, headers);
  });
  return app;
}

async function serveNar(
  ctx: CacheContext,
  c: Context,
  compression: Compression,
  name: string,
): Promise<Response> {
  const m = BASENAME.exec(name);
  if (m === null)
    throw new HttpError(
      'bad-request',
      `${JSON.stringify(name.slice(0, 80))} is not a store path basename (<32 nix-base32 characters>-<name>)`,
    );
  const meta = await getOutputMetadataByHashPart(ctx.datastore.db, m[1] as string);
  const key = meta === undefined ? null : fileKey(meta, name, compression);
  const stat = key === null ? null : await ctx.storage.store.stat('nar', key);
  if (key === null || stat === null) throw notFound(`${compression} NAR`, name);
  const headers = { 'Content-Type': 'application/x-nix-nar', 'Content-Length': String(stat.size) };
  if (c.req.method === 'HEAD') return c.body(null, 200, headers);
  const stream = await ctx.storage.store.get('nar', key);
  if (stream === null) throw notFound(`${compression} NAR`, name);
  return c.body(Readable.toWeb(stream) as ReadableStream, 200, headers);
}

/** The storage key of `meta`'s file in `compression`, if the name matches and such a file is stored. */
function fileKey(meta: OutputMetadata, name: string, compression: Compression): string | null {
  if (meta.storePath.slice(meta.storePath.lastIndexOf('/') + 1) !== name) return null;
  const file = meta.files.find((f) => f.compression === compression);
  if (file === undefined || !isCompression(file.compression)) return null;
  return file.location ?? narStorageKey(meta.storePath, compression);
}

function requestedFlavour(asked: string | undefined, fallback: CacheFlavour): CacheFlavour {
  if (asked === undefined) return fallback;
  if (asked === 'nix' || asked === 'guix') return asked;
  throw new HttpError(
    'bad-request',
    `unknown narinfo flavour ${JSON.stringify(asked.slice(0, 40))}: expected nix or guix`,
  );
}
