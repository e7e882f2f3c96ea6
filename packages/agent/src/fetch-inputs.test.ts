// Fetching inputs from a real Nix binary cache (written by `nix copy --to
// file://`, served over HTTP) into a private nix-daemon: imported when the
// NAR matches its narinfo, refused (and reported missing) when it does not.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildDaemon, storePathHashPart } from '@gbc/store';
import type { NativeBuildDaemon } from '@gbc/store';
import { ensurePaths } from './fetch-inputs.js';
import { httpSource } from './nar-source.js';
import { startPrivateDaemon } from './test-support/second-daemon.js';
import type { PrivateDaemon } from './test-support/second-daemon.js';

const env = { ...process.env, NIX_REMOTE: 'daemon' };
const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-fetch-'));
const cacheDir = join(dir, 'cache');
let server: Server;
let url: string;
let private1: PrivateDaemon;
let daemon: NativeBuildDaemon;

/** Adds a file with `text` to the main store and copies it (and what it refers to) into the file cache. */
function cached(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  const path = execFileSync('nix-store', ['--add', file], { encoding: 'utf8', env }).trim();
  execFileSync('nix', ['copy', '--to', `file://${cacheDir}`, path], { env, stdio: 'pipe' });
  return path;
}

beforeAll(async () => {
  private1 = await startPrivateDaemon();
  daemon = createBuildDaemon({ socket: private1.socket });
  server = createServer((req, res) => {
    try {
      res.end(readFileSync(join(cacheDir, decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/\.\./g, ''))));
    } catch {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await daemon?.close();
  await new Promise((r) => server?.close(r));
  await private1?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ensurePaths', () => {
  it('imports a path from a Nix binary cache after checking its NarHash', async () => {
    const path = cached(`good-${randomBytes(4).toString('hex')}`, 'good input\n');
    const imported: string[] = [];
    const missing = await ensurePaths({ daemon, spoolDir: join(dir, 'spool'), onImported: (p) => imported.push(p) }, [path], () => [httpSource(url, '/nix/store')]);
    expect(missing).toEqual([]);
    expect(imported).toEqual([path]);
    const info = await daemon.queryPathInfo(path);
    expect(info?.narSize).toBe(Number(execFileSync('nix-store', ['-q', '--size', path], { encoding: 'utf8', env }).trim()));
    expect(readFileSync(join(private1.root, path), 'utf8')).toBe('good input\n');
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
  });

  it('refuses a NAR that does not match its narinfo and reports the path missing', async () => {
    const path = cached(`tampered-${randomBytes(4).toString('hex')}`, 'tampered input\n');
    const other = cached(`other-${randomBytes(4).toString('hex')}`, 'something else\n');
    const narinfoOf = (p: string): string => join(cacheDir, `${storePathHashPart(p)}.narinfo`);
    const otherHash = /^NarHash: (.*)$/m.exec(readFileSync(narinfoOf(other), 'utf8'))![1]!;
    writeFileSync(narinfoOf(path), readFileSync(narinfoOf(path), 'utf8').replace(/^NarHash: .*$/m, `NarHash: ${otherHash}`));
    const missing = await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [path], () => [httpSource(url, '/nix/store')]);
    expect(missing).toEqual([path]);
    expect(await daemon.isValidPath(path)).toBe(false);
  });

  it('reports a path no source has', async () => {
    const absent = `/nix/store/${'0'.repeat(32)}-absent-${randomBytes(4).toString('hex')}`;
    expect(await ensurePaths({ daemon, spoolDir: join(dir, 'spool') }, [absent], () => [httpSource(url, '/nix/store')])).toEqual([absent]);
  });
});
