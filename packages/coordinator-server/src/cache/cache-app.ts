// The binary cache as a Hono app: nix-cache-info, narinfos, NARs (as stored,
// with Content-Length, ranges, conditional requests; HEAD too) and derivation
// logs, the way Nix binary caches and `guix publish` serve them. Mounted on
// the agent port and, optionally, served on a port of its own; the listeners
// answer narinfos and NARs through cache-listener.ts first, with the same
// replies (cache-replies.ts) from the same narinfo cache.
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { getOutputMetadataByHashPart } from '@gbc/datastore';
import { cacheRoutes } from '@gbc/protocol';
import { NIX_CACHE_INFO_CONTENT_TYPE, writeNixCacheInfo } from '@gbc/store';
import type { CoordinatorContext } from '../context.js';
import { HttpError, notFound } from '../http/http-error.js';
import { createErrorHandler, notFoundHandler } from '../http/on-error.js';
import { mountRoute } from '../http/validate.js';
import type { Compression } from '../compression/compression.js';
import type { CacheFlavour, ResolvedCacheOptions } from './cache-options.js';
import { narInfoText } from './cache-narinfo.js';
import { narHashPart, narInfoReply, narReply, type CacheReply, type CacheRequest } from './cache-replies.js';
import { createNarInfoCache, type NarInfoCache, type NarInfoCacheOptions } from './narinfo-cache.js';
import { latestLogKey } from './derivation-log.js';

/** What the cache reads: the datastore and the stored NARs and logs; removals of outputs to forget. */
export interface CacheContext extends Pick<CoordinatorContext, 'datastore' | 'logger' | 'outputRemovals'> {
  readonly storage: Pick<CoordinatorContext['storage'], 'store' | 'logs'>;
}

/** The narinfo cache of `ctx` for `options`: metadata from the datastore, texts signed with the options' keys. */
export function createCacheIndex(
  ctx: CacheContext,
  options: ResolvedCacheOptions,
  tuning: Pick<NarInfoCacheOptions, 'maxEntries' | 'maxAgeMs'> = {},
): NarInfoCache {
  const cache = createNarInfoCache({
    ...tuning,
    load: (hashPart) => getOutputMetadataByHashPart(ctx.datastore.db, hashPart),
    render: (meta, flavour) => narInfoText(meta, options, flavour),
    since: options.loadedAt,
  });
  ctx.outputRemovals.subscribe((paths) => cache.forget(paths));
  return cache;
}

/** The nix-cache-info text of `options`. */
export function cacheInfoText(options: ResolvedCacheOptions): string {
  return writeNixCacheInfo({
    storeDir: options.storeDir,
    wantMassQuery: options.wantMassQuery,
    priority: options.priority,
  });
}

/**
 * Creates the binary-cache app over `ctx` with resolved `options` (see
 * `resolveCacheOptions`), answering from `narInfos` (default: its own).
 */
export function createCacheApp(
  ctx: CacheContext,
  options: ResolvedCacheOptions,
  narInfos: NarInfoCache = createCacheIndex(ctx, options),
): Hono {
  const app = new Hono();
  app.onError(createErrorHandler(ctx.logger));
  app.notFound(notFoundHandler);
  const cacheInfo = cacheInfoText(options);

  mountRoute(app, cacheRoutes.nixCacheInfo, (c) =>
    c.body(cacheInfo, 200, { 'Content-Type': NIX_CACHE_INFO_CONTENT_TYPE }),
  );

  mountRoute(app, cacheRoutes.narinfo, async (c, { params }) => {
    const hashPart = params.hash.replace(/\.narinfo$/, '');
    const flavour = requestedFlavour(c.req.query('flavour'), options.flavour);
    const held = await narInfos.lookup(hashPart);
    return toResponse(ctx, narInfoReply(requestOf(c), hashPart, held, flavour, options));
  });

  const serveNar = async (c: Context, compression: Compression, name: string) => {
    const held = await narInfos.lookup(narHashPart(name));
    return toResponse(ctx, await narReply(requestOf(c), ctx.storage.store, held, compression, name, options));
  };
  mountRoute(app, cacheRoutes.narCompressed, (c, { params }) => serveNar(c, params.compression, params.name));
  mountRoute(app, cacheRoutes.nar, (c, { params }) => serveNar(c, 'none', params.name));

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

function requestOf(c: Context): CacheRequest {
  return { method: c.req.method, header: (name) => c.req.header(name) };
}

/** A reply as a Fetch Response; a stored file is opened now (gone meanwhile: 404). */
async function toResponse(ctx: CacheContext, reply: CacheReply): Promise<Response> {
  if (!('file' in reply)) return new Response(reply.body, { status: reply.status, headers: reply.headers });
  const { key, start, end } = reply.file;
  const stream = await ctx.storage.store.get('nar', key, { start, end });
  if (stream === null) throw notFound('NAR file', key);
  return new Response(Readable.toWeb(stream) as ReadableStream, {
    status: reply.status,
    headers: reply.headers,
  });
}

function requestedFlavour(asked: string | undefined, fallback: CacheFlavour): CacheFlavour {
  if (asked === undefined) return fallback;
  if (asked === 'nix' || asked === 'guix') return asked;
  throw new HttpError(
    'bad-request',
    `unknown narinfo flavour ${JSON.stringify(asked.slice(0, 40))}: expected nix or guix`,
  );
}
