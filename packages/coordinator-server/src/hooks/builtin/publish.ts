// Built-in hook `publish`: on build-success, copy each output's stored NAR
// files into `<directory>/nar/<compression>/<basename>` and then write
// `<directory>/<hash>.narinfo`, each through a temporary file and a rename, so
// a static web server never serves a partial file nor a narinfo whose NAR is
// not there yet. Also writes `nix-cache-info` once.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { showBuild } from '@gbc/datastore';
import { writeNixCacheInfo } from '@gbc/store';
import { narInfoText, narUrl, servableFiles } from '../../cache/cache-narinfo.js';
import type { ResolvedCacheOptions } from '../../cache/cache-options.js';
import { narStorageKey } from '../../storage/nar-key.js';
import type { Compression } from '../../compression/compression.js';
import { HookError } from '../hook-errors.js';
import type { HookFunction, PublishHookSpec } from '../hook-types.js';

/** Creates the publish hook for `spec`, writing narinfos as the cache `cache` would. */
export function createPublishHook(spec: PublishHookSpec, cache: ResolvedCacheOptions): HookFunction {
  const flavour = spec.flavour ?? cache.flavour;
  return async (event, { coordinator }) => {
    if (event.build === null) throw new HookError('missing-data', `event ${event.id} names no build`);
    const build = await showBuild(coordinator.datastore.db, event.build);
    if (build === undefined)
      throw new HookError('missing-data', `build ${event.build} of event ${event.id} does not exist`);
    await mkdir(spec.directory, { recursive: true });
    await atomicWrite(
      join(spec.directory, 'nix-cache-info'),
      writeNixCacheInfo({
        storeDir: cache.storeDir,
        wantMassQuery: cache.wantMassQuery,
        priority: cache.priority,
      }),
    );
    for (const meta of build.outputMetadata) {
      for (const file of servableFiles(meta, cache.compressionPreference)) {
        const key = file.location ?? narStorageKey(meta.storePath, file.compression as Compression);
        const stream = await coordinator.storage.store.get('nar', key);
        if (stream === null)
          throw new HookError('publish-failed', `the stored NAR ${key} of ${meta.storePath} is missing`);
        await atomicWrite(join(spec.directory, narUrl(meta.storePath, file.compression)), stream);
      }
      const text = narInfoText(meta, cache, flavour);
      if (text === null)
        throw new HookError('publish-failed', `no servable NAR file is stored for ${meta.storePath}`);
      await atomicWrite(join(spec.directory, `${meta.hashPart}.narinfo`), text);
    }
  };
}

/** Writes `data` to a temporary file beside `path`, then renames it into place. */
async function atomicWrite(path: string, data: string | NodeJS.ReadableStream): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp-${randomUUID()}`);
  try {
    if (typeof data === 'string') await writeFile(tmp, data);
    else await pipeline(data, createWriteStream(tmp));
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new HookError('publish-failed', `could not write ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
