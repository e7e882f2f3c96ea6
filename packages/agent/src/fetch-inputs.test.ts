// Fetching inputs from a real Nix binary cache (written by `nix copy --to
// file://`, served over HTTP) into a private nix-daemon: imported when the
// NAR matches its narinfo, refused (and reported missing) when it does not;
// a cache that answers 5xx is retried (with `call`), never taken as lacking a path.
// Hostile caches: a decompression bomb, a lying FileSize, a NAR on another
// server and a stalled NAR are each refused, bounded, nothing left behind.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildDaemon, storePathHashPart } from '@gbc/store';
import type { NativeBuildDaemon } from '@gbc/store';
import { isAgentError } from './errors.js';
import { ensurePaths } from './fetch-inputs.js';
import { httpSource } from './nar-source.js';
import { withRetry } from './retry.js';
import { systemTimers } from './timers.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

const env = { ...process.env, NIX_REMOTE: 'daemon' };
const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-fetch-'));
const cacheDir = join(dir, 'cache');
let server: Server;
const teardown = new Teardown();
let url: string;
let private1: PrivateDaemon;
let daemon: NativeBuildDaemon;
/** Requests (by URL path) the cache answers with 503 before it serves them. */
const unavailable = new Map<string, number>();
/** Requests (by URL path) the cache answers with a few bytes, then nothing, for ever. */
const stalled = new Set<string>();

/** Adds a file with `text` to the main store and copies it (and what it refers to) into the file cache. */
function cached(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  const path = execFileSync('nix-store', ['--add', file], { encoding: 'utf8', env }).trim();
  execFileSync('nix', ['copy', '--to', `file://${cacheDir}`, path], { env, stdio: 'pipe' });
  return path;
}

beforeAll(async () => {
  private1 = await teardown.add(startPrivateDaemon(), (d) => d.stop());
  daemon = createBuildDaemon({ socket: private1.socket });
  teardown.defer(() => daemon.close());
  server = createServer((req, res) => {
    if (stalled.has(req.url ?? '')) {
      res.writeHead(200);
      res.write('x');
      return;
    }
    const left = unavailable.get(req.url ?? '') ?? 0;
    if (left > 0) {
      unavailable.set(req.url ?? '', left - 1);
      res.statusCode = 503;
      res.end('busy');
      return;
    }
    try {
      res.end(
        readFileSync(
          join(cacheDir, decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/\.\./g, '')),
        ),
      );
    } catch {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  teardown.defer(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await teardown.run();
  rmSync(dir, { recursive: true, force: true });
});

describe('ensurePaths', () => {
  it('imports a path from a Nix binary cache after checking its NarHash', async () => {
    const path = cached(`good-${randomBytes(4).toString('hex')}`, 'good input\n');
    const imported: string[] = [];
    const missing = await ensurePaths(
      { daemon, spoolDir: join(dir, 'spool'), onImported: (p) => imported.push(p) },
      [path],
      () => [httpSource(url, '/nix/store')],
    );
    expect(missing).toEqual([]);
    expect(imported).toEqual([path]);
    const info = await daemon.queryPathInfo(path);
    expect(info?.narSize).toBe(
      Number(execFileSync('nix-store', ['-q', '--size', path], { encoding: 'utf8', env }).trim()),
    );
    expect(readFileSync(join(private1.root, path), 'utf8')).toBe('good input\n');
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
  });

  it('refuses a NAR that does not match its narinfo and reports the path missing', async () => {
    const path = cached(`tampered-${randomBytes(4).toString('hex')}`, 'tampered input\n');
    const other = cached(`other-${randomBytes(4).toString('hex')}`, 'something else\n');
    const narinfoOf = (p: string): string => join(cacheDir, `${storePathHashPart(p)}.narinfo`);
    const otherHash = /^NarHash: (.*)$/m.exec(readFileSync(narinfoOf(other), 'utf8'))![1]!;
    writeFileSync(
      narinfoOf(path),
      readFileSync(narinfoOf(path), 'utf8').replace(/^NarHash: .*$/m, `NarHash: ${otherHash}`),
    );
    const missing = await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [path], () => [
      httpSource(url, '/nix/store'),
    ]);
    expect(missing).toEqual([path]);
    expect(await daemon.isValidPath(path)).toBe(false);
  });

  it('reports a path no source has', async () => {
    const absent = `/nix/store/${'0'.repeat(32)}-absent-${randomBytes(4).toString('hex')}`;
    expect(
      await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [absent], () => [
        httpSource(url, '/nix/store'),
      ]),
    ).toEqual([absent]);
  });

  it('retries a cache that answers 503 and imports the path once it answers', async () => {
    const path = cached(`busy-${randomBytes(4).toString('hex')}`, 'served after a while\n');
    const url1 = `/${storePathHashPart(path)}.narinfo`;
    unavailable.set(url1, 3);
    const retried: unknown[] = [];
    const call = <T>(fn: () => Promise<T>): Promise<T> =>
      withRetry(fn, systemTimers, { baseMs: 10, maxMs: 50 }, undefined, (e) => retried.push(e));
    const missing = await ensurePaths({ daemon, spoolDir: join(dir, 'spool'), call }, [path], () => [
      httpSource(url, '/nix/store'),
    ]);
    expect(missing).toEqual([]);
    expect(retried).toHaveLength(3);
    expect(retried.every((e) => isAgentError(e, 'source-unavailable'))).toBe(true);
    expect(await daemon.isValidPath(path)).toBe(true);
  });

  it('throws a 503 it may not retry rather than report the path missing', async () => {
    const path = cached(`down-${randomBytes(4).toString('hex')}`, 'never served\n');
    unavailable.set(`/${storePathHashPart(path)}.narinfo`, 1);
    const fetching = ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [path], () => [
      httpSource(url, '/nix/store'),
    ]);
    await expect(fetching).rejects.toMatchObject({ code: 'source-unavailable' });
    expect(await daemon.isValidPath(path)).toBe(false);
  });

  it('throws when an unreachable cache stays so, rather than report the path missing', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const path = `/nix/store/${'1'.repeat(32)}-unreachable-${randomBytes(4).toString('hex')}`;
    const call = <T>(fn: () => Promise<T>): Promise<T> =>
      withRetry(fn, systemTimers, { baseMs: 10, maxMs: 20, attempts: 3 });
    await expect(
      ensurePaths({ daemon, spoolDir: join(dir, 'spool'), call }, [path], () => [
        httpSource(deadUrl, '/nix/store'),
      ]),
    ).rejects.toMatchObject({ code: 'retries-exhausted' });
  });

  describe('a hostile cache', () => {
    const narinfoOf = (p: string): string => join(cacheDir, `${storePathHashPart(p)}.narinfo`);
    const narUrlOf = (p: string): string => /^URL: (.*)$/m.exec(readFileSync(narinfoOf(p), 'utf8'))![1]!;

    it('a decompression bomb stops at the NarSize its narinfo declares', async () => {
      const path = cached(`bomb-${randomBytes(4).toString('hex')}`, 'a small input\n');
      // The narinfo says ~120 bytes; its NAR file is 256 MiB of zeros, xz-compressed to a few KiB.
      const bomb = execFileSync('sh', ['-c', 'head -c 268435456 /dev/zero | xz -0 -c'], {
        maxBuffer: 1 << 26,
      });
      writeFileSync(join(cacheDir, narUrlOf(path)), bomb);
      writeFileSync(
        narinfoOf(path),
        readFileSync(narinfoOf(path), 'utf8')
          .replace(/^Compression: .*$/m, 'Compression: xz')
          .replace(/^FileSize: .*$/m, `FileSize: ${bomb.length}`)
          .replace(/^FileHash: .*\n/m, ''),
      );
      // Watch the spool while the import runs: the largest file it ever holds is the work done.
      let largest = 0;
      const watch = setInterval(() => {
        for (const f of readdirSync(join(dir, 'spool'))) {
          try {
            largest = Math.max(largest, statSync(join(dir, 'spool', f)).size);
          } catch {
            // removed meanwhile
          }
        }
      }, 5);
      try {
        const missing = await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [path], () => [
          httpSource(url, '/nix/store'),
        ]);
        expect(missing).toEqual([path]);
      } finally {
        clearInterval(watch);
      }
      expect(largest).toBeLessThan(1 << 20);
      expect(await daemon.isValidPath(path)).toBe(false);
      expect(readdirSync(join(dir, 'spool'))).toEqual([]);
    });

    it('a compressed NAR longer than its declared FileSize is refused', async () => {
      const path = cached(`filesize-${randomBytes(4).toString('hex')}`, 'an input whose file size lies\n');
      writeFileSync(
        narinfoOf(path),
        readFileSync(narinfoOf(path), 'utf8').replace(/^FileSize: .*$/m, 'FileSize: 10'),
      );
      expect(
        await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [path], () => [
          httpSource(url, '/nix/store'),
        ]),
      ).toEqual([path]);
      expect(await daemon.isValidPath(path)).toBe(false);
    });

    it('a narinfo naming a NAR on another server is not followed', async () => {
      let asked = 0;
      const other = createServer((_req, res) => {
        asked++;
        res.end('');
      });
      await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
      try {
        const path = cached(`elsewhere-${randomBytes(4).toString('hex')}`, 'an input served elsewhere\n');
        const foreign = `http://127.0.0.1:${(other.address() as AddressInfo).port}/${narUrlOf(path)}`;
        writeFileSync(
          narinfoOf(path),
          readFileSync(narinfoOf(path), 'utf8').replace(/^URL: .*$/m, `URL: ${foreign}`),
        );
        expect(
          await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [path], () => [
            httpSource(url, '/nix/store'),
          ]),
        ).toEqual([path]);
        expect(asked).toBe(0);
      } finally {
        await new Promise((r) => other.close(r));
      }
    });

    it('a NAR that stalls is given up after the inactivity bound, not waited for', async () => {
      const path = cached(`stalled-${randomBytes(4).toString('hex')}`, 'an input that never comes\n');
      stalled.add(`/${narUrlOf(path)}`);
      const outcome = await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [path], () => [
        httpSource(url, '/nix/store', 300),
      ]).then(
        (missing) => ({ missing }),
        (error: unknown) => ({ error }),
      );
      expect(outcome).toMatchObject(
        'missing' in outcome
          ? { missing: [path] }
          : { error: expect.objectContaining({ message: expect.stringContaining('no data for 300 ms') }) },
      );
      expect(await daemon.isValidPath(path)).toBe(false);
    });
  });
});
