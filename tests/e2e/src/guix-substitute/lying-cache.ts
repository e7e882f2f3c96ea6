// A lying cache in front of gbc's: a loopback HTTP server that passes each
// GET on to the coordinator's cache and rewrites what comes back (a scripted
// peer for cases the real coordinator never produces: a narinfo altered after
// it was signed, a NAR whose bytes are not those its narinfo hashes). It
// records the paths it was asked for, so a test can tell the daemon came.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Rewrites a response body; `path` is the request's path (`/<hash>.narinfo`, `/nar/<compression>/<name>`). */
export type Rewrite = (path: string, body: Buffer) => Buffer;

/** A running lying cache. */
export interface LyingCache {
  readonly url: string;
  /** Paths requested so far, in order. */
  readonly requested: readonly string[];
  close(): Promise<void>;
}

/** Serves `upstream`'s answers through `rewrite` on 127.0.0.1. */
export async function startLyingCache(upstream: string, rewrite: Rewrite): Promise<LyingCache> {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requested.push(path);
    fetch(`${upstream}${req.url ?? '/'}`)
      .then(async (answer) => {
        const body = Buffer.from(await answer.arrayBuffer());
        const sent = answer.ok ? rewrite(path, body) : body;
        const type = answer.headers.get('content-type');
        res.writeHead(answer.status, type === null ? {} : { 'content-type': type }).end(sent);
      })
      .catch((error: unknown) => {
        // A failed rewrite shows as a 502 with its reason, which the client reports.
        res.writeHead(502).end(String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requested,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

/** `body` with its first `from` (latin1) replaced by `to` of the same length; throws when `from` is absent. */
export function replaceOnce(body: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('a lying rewrite keeps the length');
  const at = body.indexOf(from, 0, 'latin1');
  if (at < 0) throw new Error(`nothing to rewrite: ${JSON.stringify(from)} is not in the body`);
  const out = Buffer.from(body);
  out.write(to, at, 'latin1');
  return out;
}
