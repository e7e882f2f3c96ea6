// Uploads over real HTTP sockets (a bare node:http server standing in for the
// route) of a NAR that nix-daemon built, declared with `nix-store -q --hash`:
// a client that drops the connection mid-way resumes from the kept offset,
// with the body as a Node stream and as a Web ReadableStream (as Hono gives it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { collect, compressWithProgram, waitFor } from '../test-support/bytes.js';
import { createDataDirStorage } from './data-dir-storage.js';
import { createNarUploads, type NarUploads } from './nar-uploads.js';
import { narStorageKey } from './nar-key.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-http-upload-'));
let server: Server;
let port: number;
let uploads: NarUploads;
let root: string;
const serverErrors: unknown[] = [];

// A derivation built by the real daemon: a few files, one of them large enough to stream.
const expr = join(work, 'out.nix');
writeFileSync(
  expr,
  `derivation { name = "gbc-upload-test-output"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin";
    args = [ "-c" "mkdir $out; i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done > $out/data; echo hi > $out/small" ]; }`,
);
const drv = execFileSync('nix-instantiate', [expr], { encoding: 'utf8' }).trim();
const outPath = execFileSync('nix-store', ['--realise', drv], { encoding: 'utf8' }).trim();
const nar = execFileSync('nix-store', ['--dump', outPath], { maxBuffer: 1 << 28 });
const declaredHash = execFileSync('nix-store', ['-q', '--hash', outPath], { encoding: 'utf8' }).trim();
const declaredSize = Number(
  execFileSync('nix-store', ['-q', '--size', outPath], { encoding: 'utf8' }).trim(),
);
const lz = compressWithProgram('lzip', nar);

beforeAll(async () => {
  root = join(work, 'data');
  const storage = await createDataDirStorage(root);
  uploads = await createNarUploads({ storage, inMemoryUpTo: 0 }); // the partial-file path, whatever the NAR's size
  server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body =
      url.searchParams.get('body') === 'web' ? (Readable.toWeb(req) as WebReadableStream<Uint8Array>) : req;
    uploads
      .receive({
        uploadId: url.searchParams.get('id') ?? 'none',
        key: narStorageKey(outPath, 'lzip'),
        compression: 'lzip',
        narHash: declaredHash,
        narSize: declaredSize,
        offset: Number(req.headers['upload-offset'] ?? 0),
        body,
      })
      .then(
        (stored) => res.end(JSON.stringify(stored)),
        (error: unknown) => {
          serverErrors.push(error);
          res.statusCode = 400;
          res.end();
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

function put(
  id: string,
  mode: string,
  data: Uint8Array,
  offset: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        port,
        host: '127.0.0.1',
        method: 'PUT',
        path: `/?id=${id}&body=${mode}`,
        headers: { 'upload-offset': String(offset), 'content-length': data.length },
      },
      (res) => {
        collect(res).then((b) => resolve({ status: res.statusCode ?? 0, body: b.toString() }), reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('uploads over HTTP', () => {
  it.each(['node', 'web'])(
    'a dropped connection (%s body) keeps the received bytes and the upload resumes',
    async (mode) => {
      const id = `b1-out-${mode}`;
      const before = serverErrors.length;
      const half = lz.length >> 1;
      const req = request({
        port,
        host: '127.0.0.1',
        method: 'PUT',
        path: `/?id=${id}&body=${mode}`,
        headers: { 'content-length': lz.length },
      });
      req.on('error', () => {});
      req.write(lz.subarray(0, half));
      const part = join(root, 'scratch', 'uploads', `${id}.part`);
      await waitFor(
        () => statSync(part, { throwIfNoEntry: false })?.size === half,
        'the server to store the first half',
      );
      req.destroy();
      await waitFor(() => serverErrors.length > before, 'the server to notice the broken upload');
      const error = serverErrors[before] as StorageError;
      expect(error).toBeInstanceOf(StorageError);
      expect(error.code).toBe('interrupted');
      expect(error.received).toBe(half);

      const status = await uploads.status(id);
      expect(status?.received).toBe(half);
      const done = await put(id, mode, lz.subarray(half), half);
      expect(done.status).toBe(200);
      expect(JSON.parse(done.body)).toMatchObject({
        narHash: declaredHash,
        narSize: declaredSize,
        fileSize: lz.length,
      });
      const stored = readFileSync(join(root, 'nar', narStorageKey(outPath, 'lzip')));
      expect(stored.equals(lz)).toBe(true);
      expect(execFileSync('lzip', ['-d', '-c'], { input: stored, maxBuffer: 1 << 28 }).equals(nar)).toBe(
        true,
      );
    },
  );

  it('a corrupted upload over HTTP is refused and nothing is stored for it', async () => {
    const bad = Buffer.from(lz);
    bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0x40;
    const result = await put('b2-out', 'web', bad, 0);
    expect(result.status).toBe(400);
    expect((serverErrors.at(-1) as StorageError).code).toBe('corrupt-compression');
    expect(await uploads.status('b2-out')).toBeNull();
  });
});
