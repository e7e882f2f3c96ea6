// Public entry of the binary cache: the Hono app, its options, narinfo text.
export { createCacheApp, type CacheContext } from './cache-app.js';
export {
  defaultFlavour,
  resolveCacheOptions,
  type CacheFlavour,
  type CacheOptions,
  type ResolvedCacheOptions,
} from './cache-options.js';
export { narInfoText, narUrl, servableFiles } from './cache-narinfo.js';
export { latestLogKey } from './derivation-log.js';
