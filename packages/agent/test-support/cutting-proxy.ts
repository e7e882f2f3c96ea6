// Test support (not exported): a TCP proxy in front of the coordinator that
// cuts the first output upload (or other request) after a number of its
// bytes, the way a dropped network would, and records the request lines it saw.
// A test may act at the cut (e.g. stop the coordinator) before the request fails.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/** A running proxy. */
export interface CuttingProxy {
  /** e.g. `http://127.0.0.1:40000` */
  readonly url: string;
  /** Request lines seen (`PUT /build/…/output/out?offset=… HTTP/1.1`). */
  readonly requests: readonly string[];
  /** Whether the cut happened. */
  readonly cut: () => boolean;
  close(): Promise<void>;
}

/**
 * Proxies to `target` (`http://host:port`); cuts the first request whose line
 * matches `cutting` (default `PUT …/output/…`) after `cutAfter` bytes of it.
 * `atCut` runs first, with the request held: the client sees the connection
 * drop only once it has settled. While the target is down, each connection
 * is closed at once.
 */
export async function startCuttingProxy(
  target: string,
  cutAfter: number,
  cutting = /PUT \/build\/[^ ]*\/output\//,
  atCut: () => Promise<void> = () => Promise.resolve(),
): Promise<CuttingProxy> {
  const t = new URL(target);
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let done = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(t.port), t.hostname);
    sockets.add(client).add(upstream);
    let counting = -1;
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      for (const m of text.matchAll(/(?:GET|PUT|POST) \/[^\r\n]* HTTP\/1\.1/g)) requests.push(m[0]);
      if (!done && counting < 0) {
        const at = text.search(cutting);
        if (at >= 0) counting = chunk.length - at;
      } else if (!done) counting += chunk.length;
      if (!done && counting >= cutAfter) {
        done = true;
        client.pause();
        void atCut()
          .catch(() => undefined)
          .finally(() => {
            client.destroy();
            upstream.destroy();
          });
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cut: () => done,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
