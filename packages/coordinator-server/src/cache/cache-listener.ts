// The binary cache's fast path: a Node request listener placed in front of
// the Hono apps (coordinator/listen.ts) that answers the requests substituters
// make by the thousand — `GET|HEAD /<hash>.narinfo` and `/nar/…` — straight
// from the narinfo cache and the stored file, without building a Fetch
// Request and Response per request (measured: Hono through @hono/node-server
// answers a fixed narinfo about 3× slower than a bare Node listener here).
// A NAR file is piped to the socket in 1 MiB reads, nothing done per chunk.
// Anything else (a query string, percent-encoded names, other routes and
// methods) is left to Hono, which answers it as before.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { cacheRoutes, toHonoPath } from '@gbc/protocol';
import { NIX_CACHE_INFO_CONTENT_TYPE } from '@gbc/store';
import { isCompression } from '../compression/compression.js';
import { notFound } from '../http/http-error.js';
import { toHttpError } from '../http/on-error.js';
import type { CacheContext } from './cache-app.js';
import type { ResolvedCacheOptions } from './cache-options.js';
import {
  errorReply,
  isStoreBasename,
  narInfoReply,
  narReply,
  type CacheReply,
  type CacheRequest,
} from './cache-replies.js';
import type { FrontHandler, RequestObserver } from '../http/front-handler.js';
import type { NarInfoCache } from './narinfo-cache.js';
import { sendFileRange } from './send-file.js';

const NARINFO_PATH = /^\/([0-9a-df-np-sv-z]{32})\.narinfo$/;
const NAR_PATH = /^\/nar\/(?:([a-z]+)\/)?([^/%?]+)$/;
const ROUTES = {
  narinfo: toHonoPath(cacheRoutes.narinfo),
  nar: toHonoPath(cacheRoutes.nar),
  narCompressed: toHonoPath(cacheRoutes.narCompressed),
  nixCacheInfo: toHonoPath(cacheRoutes.nixCacheInfo),
};

/** Creates the fast path over `narInfos` (shared with the cache app); see the file header. */
export function createCacheListener(
  ctx: CacheContext,
  options: ResolvedCacheOptions,
  narInfos: NarInfoCache,
  cacheInfo: string,
  observe?: RequestObserver,
): FrontHandler {
  const cacheInfoBody = Buffer.from(cacheInfo);

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    start: number,
    reply: CacheReply,
  ) => {
    observe?.(req.method!, route, reply.status, (performance.now() - start) / 1000);
    if ('file' in reply) return streamFile(ctx, res, reply);
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body ?? undefined);
  };
  const fail = (req: IncomingMessage, res: ServerResponse, route: string, start: number, error: unknown) => {
    const http = toHttpError(error);
    if (http.status >= 500)
      ctx.logger.error('request failed', {
        method: req.method,
        path: req.url,
        code: http.code,
        error: String(error),
      });
    if (res.headersSent) res.destroy();
    else send(req, res, route, start, errorReply(http, 0));
  };

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    const start = performance.now();
    const request: CacheRequest = { method: req.method, header: (name) => single(req.headers[name]) };
    const narinfo = NARINFO_PATH.exec(url);
    if (narinfo !== null) {
      const hashPart = narinfo[1]!;
      const answer = (held: Parameters<typeof narInfoReply>[2]) =>
        send(
          req,
          res,
          ROUTES.narinfo,
          start,
          narInfoReply(request, hashPart, held, options.flavour, options),
        );
      const held = narInfos.peek(hashPart);
      if (held !== undefined) answer(held);
      else
        narInfos
          .lookup(hashPart)
          .then(answer, (error: unknown) => fail(req, res, ROUTES.narinfo, start, error));
      return true;
    }
    const nar = NAR_PATH.exec(url);
    if (nar !== null) {
      const compression = nar[1] ?? 'none';
      const name = nar[2]!;
      if (!isCompression(compression) || !isStoreBasename(name)) return false;
      const hashPart = name.slice(0, 32);
      const route = nar[1] === undefined ? ROUTES.nar : ROUTES.narCompressed;
      narInfos
        .lookup(hashPart)
        .then((held) => narReply(request, ctx.storage.store, held, compression, name, options))
        .then(
          (reply) => send(req, res, route, start, reply),
          (error: unknown) => fail(req, res, route, start, error),
        );
      return true;
    }
    if (url === '/nix-cache-info') {
      const headers = {
        'Content-Type': NIX_CACHE_INFO_CONTENT_TYPE,
        'Content-Length': String(cacheInfoBody.length),
      };
      send(req, res, ROUTES.nixCacheInfo, start, {
        status: 200,
        headers,
        body: req.method === 'HEAD' ? null : cacheInfoBody,
      });
      return true;
    }
    return false;
  };
}

/**
 * Sends the reply's part of a stored NAR: from reused buffers when the storage
 * is a local directory (send-file.ts), else piped from its stream. A file
 * gone meanwhile is a 404.
 */
function streamFile(
  ctx: CacheContext,
  res: ServerResponse,
  reply: Extract<CacheReply, { file: unknown }>,
): void {
  const { key, start, end } = reply.file;
  const store = ctx.storage.store;
  const answerGone = () => {
    const gone = errorReply(notFound('NAR file', key), 0);
    res.writeHead(gone.status, gone.headers);
    res.end(gone.body);
  };
  void (async () => {
    if (store.localPath !== undefined) {
      const sent = await sendFileRange(store.localPath('nar', key), start, end, res, () =>
        res.writeHead(reply.status, reply.headers),
      );
      if (!sent) answerGone();
      return;
    }
    const stream = await store.get('nar', key, { start, end });
    if (stream === null) return answerGone();
    res.writeHead(reply.status, reply.headers);
    // A client that goes away ends the pipeline with an error: nothing to answer then.
    await pipeline(stream, res).catch(() => undefined);
  })().catch((error: unknown) => {
    ctx.logger.error('NAR read failed', { key, error: String(error) });
    res.destroy();
  });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
