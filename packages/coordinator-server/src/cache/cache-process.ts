// A helper process of the binary cache's port, forked by cache-processes.ts
// (which says why). It greets its parent, receives what to serve and the
// listening socket, opens the datastore and the storage for reading only,
// and answers on the socket exactly as its parent's cache port does: the
// fast path, then the cache's Hono app. It forgets removed outputs when told
// and answers once it has; it logs through its parent; it stops when told,
// and exits at once when its parent is gone.
import type { Server as NetServer } from 'node:net';
import type { Server } from 'node:http';
import { openDatastore, type Datastore } from '@gbc/datastore';
import { createHttpServer } from '../coordinator/http-server.js';
import type { Logger, LogLevel } from '../logger.js';
import { createLogStore, openStorage } from '../storage/index.js';
import type { Storage } from '../storage/storage.js';
import { cacheInfoText, createCacheApp, createCacheIndex, type CacheContext } from './cache-app.js';
import { createCacheListener } from './cache-listener.js';
import {
  receivedCacheOptions,
  type CacheProcessSpec,
  type FromHelper,
  type ToHelper,
} from './cache-processes.js';
import { createOutputRemovals } from './output-removals.js';

const tell = (message: FromHelper): void => {
  if (process.connected) process.send!(message);
};
const log =
  (level: LogLevel) =>
  (message: string, fields?: Record<string, unknown>): void =>
    tell({ type: 'log', level, message, ...(fields === undefined ? {} : { fields }) });
const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

const removals = createOutputRemovals();
let datastore: Datastore | undefined;
let store: Storage | undefined;
let server: Server | undefined;
let ending = false;

async function serve(spec: CacheProcessSpec, socket: NetServer): Promise<void> {
  datastore = await openDatastore(spec.databaseUri, {
    migrate: false,
    cwd: spec.cwd,
    // Its parent checkpoints the WAL; this process only reads.
    backgroundCheckpoints: false,
    cacheMiB: 16,
    // PostgreSQL: a narinfo miss is one indexed read; a few connections per helper are plenty.
    poolSize: 4,
  });
  store = await openStorage(spec.storage, { readOnly: true });
  const ctx: CacheContext = {
    datastore,
    storage: { store, logs: await createLogStore({ storage: store }) },
    logger,
    outputRemovals: removals,
  };
  const options = receivedCacheOptions(spec.cache);
  const narInfos = createCacheIndex(ctx, options);
  const front = createCacheListener(ctx, options, narInfos, cacheInfoText(options));
  const listening = createHttpServer(createCacheApp(ctx, options, narInfos).fetch, spec.timeouts, front);
  server = listening;
  await new Promise<void>((resolve, reject) => {
    listening.once('error', reject);
    listening.listen(socket, () => resolve());
  });
}

/** Stops serving, closes what is open, exits. */
async function end(code: number): Promise<never> {
  if (!ending) {
    ending = true;
    const listening = server;
    if (listening !== undefined) {
      listening.close();
      listening.closeAllConnections();
    }
    await datastore?.close().catch(() => undefined);
    store?.close?.();
  }
  process.exit(code);
}

process.on('message', (m: ToHelper, socket?: NetServer) => {
  switch (m.type) {
    case 'serve':
      if (socket === undefined) {
        tell({ type: 'failed', message: 'no listening socket came with the request to serve' });
        void end(1);
        return;
      }
      serve(m.spec, socket).then(
        () => tell({ type: 'ready' }),
        (error: unknown) => {
          tell({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
          void end(1);
        },
      );
      return;
    case 'removed':
      void removals.notify(m.paths).then(() => tell({ type: 'removed', id: m.id }));
      return;
    case 'stop':
      void end(0);
      return;
  }
});
// The parent is gone (its channel closed): nobody would restart or tell this one anything.
process.on('disconnect', () => void end(0));
process.on('uncaughtException', (error) => {
  logger.error('cache helper process failed', { error: error.stack ?? String(error) });
  void end(1);
});
tell({ type: 'hello' });
