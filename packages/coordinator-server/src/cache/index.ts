// Public entry of the binary cache: the Hono app, its fast path, its options, narinfo text.
export { cacheInfoText, createCacheApp, createCacheIndex, type CacheContext } from './cache-app.js';
export { createCacheListener } from './cache-listener.js';
export {
  defaultFlavour,
  resolveCacheOptions,
  type CacheFlavour,
  type CacheOptions,
  type ResolvedCacheOptions,
} from './cache-options.js';
export { narInfoText, narUrl, servableFiles } from './cache-narinfo.js';
export { latestLogKey } from './derivation-log.js';
export type { NarInfoCache } from './narinfo-cache.js';
export { createOutputRemovals, type OutputRemovals } from './output-removals.js';
