// A real Nix client (Debian's nix 2.8) against a real coordinator's cache,
// through a proxy on loopback that records every request and, once, cuts a
// NAR download partway: Nix retries the NAR with `Range: bytes=<received>-`,
// the cache answers 206 from there, and the substituted path is byte-identical.
// The recorded requests also show which methods and headers Nix sends (HEAD
// for `nix path-info --store`, no conditional requests); what Nix does not use
// is tested with plain HTTP requests in cache-http.test.ts.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningCoordinator } from '../agent-api/test-support.js';
import { makeTestDir, removeTestDir } from '../hooks/testing/test-coordinator.js';
import { storeOutput } from '../hooks/testing/store-output.js';

const env = { ...process.env, NIX_REMOTE: 'daemon' };
/** Bytes of the NAR response let through before the cut. */
const CUT_AFTER = 300 * 1024;

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly conditional: boolean;
}

let dir: string;
let lc: ListeningCoordinator | undefined;
let proxy: Server | undefined;
let proxyUrl: string;
let outPath: string;
let nar: Buffer;
let publicKey: string;
const seen: Seen[] = [];
const sockets = new Set<Socket>();
let cuts = 0;

/** Runs a nix command without blocking the event loop (the coordinator answers from this process). */
function nix(
  program: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Request heads in the client's bytes (GET and HEAD have no body). */
function recordRequests(text: string): string {
  let rest = text;
  for (let end = rest.indexOf('\r\n\r\n'); end >= 0; end = rest.indexOf('\r\n\r\n')) {
    const [line = '', ...headers] = rest.slice(0, end).split('\r\n');
    const [method = '', path = ''] = line.split(' ');
    const header = (name: string) =>
      headers
        .find((h) => h.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim();
    seen.push({
      method,
      path,
      range: header('range'),
      conditional: header('if-none-match') !== undefined || header('if-modified-since') !== undefined,
    });
    rest = rest.slice(end + 4);
  }
  return rest;
}

/** A TCP proxy to `target` that records requests and cuts the first NAR response after CUT_AFTER bytes. */
function startProxy(target: URL): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let pending = '';
    let narInFlight = false;
    let passed = 0;
    client.on('data', (chunk: Buffer) => {
      const before = seen.length;
      pending = recordRequests(pending + chunk.toString('latin1'));
      if (seen.slice(before).some((s) => s.path.startsWith('/nar/') && s.method === 'GET'))
        narInFlight = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (narInFlight && cuts === 0 && passed + chunk.length > CUT_AFTER) {
        cuts += 1;
        client.write(chunk.subarray(0, CUT_AFTER - passed));
        client.destroy();
        upstream.destroy();
        return;
      }
      if (narInFlight) passed += chunk.length;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  dir = await makeTestDir('gbc-nix-resume-');
  execFileSync(
    'nix-store',
    ['--generate-binary-cache-key', 'gbc-resume-1', join(dir, 'key.sec'), join(dir, 'key.pub')],
    { env },
  );
  publicKey = readFileSync(join(dir, 'key.pub'), 'utf8').trim();
  // An output of 2 MiB of random bytes: big enough to be cut partway.
  writeFileSync(
    join(dir, 'big.nix'),
    `derivation { name = "gbc-resume"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; ` +
      `args = [ "-c" "echo ${randomUUID()} > $out.tmp; head -c 2097152 /dev/urandom >> $out.tmp; mv $out.tmp $out" ]; }\n`,
  );
  const drvPath = execFileSync('nix-instantiate', [join(dir, 'big.nix')], { env, encoding: 'utf8' }).trim();
  outPath = execFileSync('nix-store', ['-r', drvPath], { env, encoding: 'utf8' }).trim();
  nar = execFileSync('nix-store', ['--dump', outPath], { env, maxBuffer: 1 << 26 });
  const started = await startListening('sqlite', {
    storeDir: '/nix/store',
    cache: { signingKeyFile: join(dir, 'key.sec') },
  });
  lc = started;
  await storeOutput(started.c.context, { storePath: outPath, nar, compressions: ['none'], deriver: drvPath });
  const listening = await startProxy(new URL(started.listening.agentUrl));
  proxy = listening;
  proxyUrl = `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  const server = proxy;
  if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  await lc?.close();
  await removeTestDir(dir);
});

describe('a real Nix client through a proxy that cuts the NAR download once', () => {
  it('asks with HEAD when it only checks that a path is in the cache', async () => {
    const r = await nix('nix', ['path-info', '--store', proxyUrl, outPath]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(outPath);
    const narinfo = `/${outPath.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`;
    expect(seen.some((s) => s.method === 'HEAD' && s.path === narinfo)).toBe(true);
  });

  it('resumes the cut NAR with a Range request and substitutes it byte-identical', async () => {
    expect((await nix('nix-store', ['--delete', outPath])).status).toBe(0);
    const r = await nix('nix-store', [
      '-r',
      outPath,
      '--option',
      'substituters',
      proxyUrl,
      '--option',
      'trusted-public-keys',
      publicKey,
      '--option',
      'require-sigs',
      'true',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(cuts).toBe(1);
    const narRequests = seen.filter((s) => s.path.startsWith('/nar/') && s.method === 'GET');
    expect(narRequests.length).toBe(2);
    expect(narRequests[0]!.range).toBeUndefined();
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(narRequests[1]!.range ?? '')?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(CUT_AFTER);
    const restored = execFileSync('nix-store', ['--dump', outPath], { env, maxBuffer: 1 << 26 });
    expect(Buffer.compare(restored, nar)).toBe(0);
    // Nix keeps narinfos in its own disk cache and never revalidates them over HTTP.
    expect(seen.some((s) => s.conditional)).toBe(false);
  });
});
