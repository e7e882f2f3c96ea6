// Agent-port upload routes: the live build log and output NARs (verified,
// resumable with ?offset=, through the storage layer's NarUploads).
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Hono, MiddlewareHandler } from 'hono';
import { getDerivation } from '@gbc/datastore';
import { agentRoutes, parseUploadHeaders, fromZodError } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import { narStorageKey } from '../storage/index.js';
import type { AgentEnv } from './agent-auth.js';
import { heldAttempt } from './attempt-access.js';
import type { UploadedOutputs } from './uploaded-outputs.js';

/** The log storage key of an attempt. */
export function logKey(buildId: string, attemptId: number): string {
  return `${buildId}/${attemptId}`;
}

/** Mounts the log and output upload routes. */
export function mountUploadRoutes(app: Hono<AgentEnv>, ctx: CoordinatorContext, auth: MiddlewareHandler<AgentEnv>, uploaded: UploadedOutputs): void {
  const db = ctx.datastore.db;
  const before = { before: [auth] };

  mountRoute(app, agentRoutes.uploadLog, async (c, { params }) => {
    const held = await heldAttempt(db, params.uuid, c.get('agentId'));
    await ctx.storage.logs.append(logKey(held.buildId, held.attemptId), bodyOf(c.req.raw));
    return c.body(null, 204);
  }, before);

  mountRoute(app, agentRoutes.uploadOutput, async (c, { params, query }) => {
    const held = await heldAttempt(db, params.uuid, c.get('agentId'));
    const meta = parseUploadHeaders((n) => c.req.header(n));
    if (!meta.success) {
      const p = fromZodError('upload headers', meta.error);
      throw new HttpError('bad-request', p.message, { details: p.details });
    }
    const drv = await getDerivation(db, held.derivationPath);
    const out = drv?.outputs.find((o) => o.name === params.name);
    if (drv === undefined || out === undefined) throw new HttpError('not-found', `derivation ${held.derivationPath} has no output ${params.name}`);
    const storeDir = out.path.slice(0, out.path.lastIndexOf('/'));
    const key = narStorageKey(out.path, meta.data.compression);
    const body = bodyOf(c.req.raw);
    let stored;
    try {
      stored = await ctx.storage.nars.receive({
        uploadId: `${held.buildId}-${params.name}`, key, compression: meta.data.compression, narHash: meta.data.narHash, narSize: meta.data.narSize,
        offset: query.offset, body,
      });
    } catch (error) {
      // A refusal leaves the rest of the body unread. Read it (bounded) so the
      // connection stays usable; past the bound, tell the client it will close,
      // or a keep-alive client would reuse a socket the server then drops.
      if (!(await drainBody(body))) c.header('Connection', 'close');
      throw error;
    }
    await uploaded.save(held.buildId, {
      output: params.name,
      metadata: {
        storePath: out.path, narHash: stored.narHash, narSize: stored.narSize,
        references: meta.data.references.map((r) => `${storeDir}/${r}`),
        deriver: meta.data.deriver === undefined ? held.derivationPath : `${storeDir}/${meta.data.deriver}`,
        files: [{ compression: stored.compression, fileSize: stored.fileSize, fileHash: stored.fileHash, location: stored.key }],
      },
    });
    return c.json({ path: out.path, narHash: stored.narHash, narSize: stored.narSize, compression: stored.compression, fileSize: stored.fileSize }, 200);
  }, before);

  mountRoute(app, agentRoutes.outputUploadProgress, async (c, { params }) => {
    const held = await heldAttempt(db, params.uuid, c.get('agentId'));
    const done = await uploaded.load(held.buildId, params.name);
    if (done !== undefined) return c.json({ bytesReceived: done.metadata.files[0]?.fileSize ?? 0, complete: true }, 200);
    const status = await ctx.storage.nars.status(`${held.buildId}-${params.name}`);
    return c.json({ bytesReceived: status?.received ?? 0, complete: false }, 200);
  }, before);
}

/** Bytes and time a refused upload's remaining body may take to read before the connection is closed instead. */
const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 5000;

/** Reads and discards what is left of `body`; true when it ended within the bounds. */
async function drainBody(body: Readable): Promise<boolean> {
  if (body.readableEnded) return true;
  if (body.destroyed) return false;
  let timer: NodeJS.Timeout | undefined;
  const read = (async () => {
    let bytes = 0;
    for await (const chunk of body) {
      bytes += (chunk as Uint8Array).length;
      if (bytes > DRAIN_BYTES) return false;
    }
    return true;
  })().catch(() => false);
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), DRAIN_MS); });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

function bodyOf(req: Request): Readable {
  if (req.body === null) return Readable.from([]);
  return Readable.fromWeb(req.body as unknown as WebReadableStream<Uint8Array>);
}
