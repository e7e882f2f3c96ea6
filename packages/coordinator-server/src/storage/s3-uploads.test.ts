// Verified NAR uploads into object storage, over real HTTP (a node:http
// server standing in for the route) through the real SDK to the S3 target
// (testing/s3-target.ts). A NAR of several parts streams into a multipart
// upload that completes only once its hash is checked: a client whose
// connection is cut resumes, also after a restart; a wrong hash, an oversized
// or a lying body leaves nothing visible and no multipart upload behind; the
// sweep aborts what nobody resumed.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { collect, makeNar, waitFor } from '../test-support/bytes.js';
import { narHashOf } from '../test-support/upload-fixtures.js';
import { createNarUploads, type NarUploads } from './nar-uploads.js';
import { createS3Storage, type S3Storage } from './s3-storage.js';
import { MIN_PART_SIZE } from './s3-staged-write.js';
import { startS3Target, type S3TestTarget } from './testing/s3-target.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-s3-uploads-'));
// A real NAR of three parts and a bit (5 MiB parts), sent uncompressed: the stored file is the NAR.
const nar = makeNar(work, 3 * MIN_PART_SIZE + 300_000);
const scratch = join(work, 'scratch');
let target: S3TestTarget;
let url: string;
let opened: S3Storage | undefined;
let storage: S3Storage;
let uploads: NarUploads;
let server: Server;
let port: number;
/** What the next request for an upload id declares. */
const declared = new Map<string, { key: string; narHash: string; narSize: number }>();
const outcomes: { id: string; error?: unknown }[] = [];

async function open(): Promise<void> {
  opened?.close();
  opened = await createS3Storage({
    url,
    scratchDir: scratch,
    credentials: target.credentials,
    partSize: MIN_PART_SIZE,
  });
  storage = opened;
  uploads = await createNarUploads({ storage, inMemoryUpTo: 0 });
}

beforeAll(async () => {
  target = await startS3Target();
  url = target.url();
  await open();
  server = createServer((req: IncomingMessage, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? 'none';
    const d = declared.get(id)!;
    uploads
      .receive({
        uploadId: id,
        ...d,
        compression: 'none',
        offset: Number(req.headers['upload-offset'] ?? 0),
        body: req,
      })
      .then(
        (stored) => {
          outcomes.push({ id });
          res.end(JSON.stringify(stored));
        },
        (error: unknown) => {
          outcomes.push({ id, error });
          res.statusCode = error instanceof StorageError && error.code === 'too-large' ? 413 : 400;
          res.end((error as Error).message);
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  storage.close();
  await target.stop();
  rmSync(work, { recursive: true, force: true });
});

function put(id: string, data: Uint8Array, offset = 0): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        port,
        host: '127.0.0.1',
        method: 'PUT',
        path: `/?id=${id}`,
        headers: { 'upload-offset': String(offset), 'content-length': data.length },
      },
      (res) => {
        collect(res).then((b) => resolve({ status: res.statusCode ?? 0, body: b.toString() }), reject);
      },
    );
    // A server that refuses early may close before the whole body is written.
    req.on('error', (error) => reject(error));
    req.end(data);
  });
}

/** Sends the first `cut` bytes, then cuts the connection once the coordinator holds them. */
async function cutUpload(id: string, data: Uint8Array, cut: number): Promise<StorageError> {
  const before = outcomes.length;
  const req = request({
    port,
    host: '127.0.0.1',
    method: 'PUT',
    path: `/?id=${id}`,
    headers: { 'content-length': data.length },
  });
  req.on('error', () => {});
  req.write(data.subarray(0, cut));
  const part = join(scratch, 'uploads', `${id}.part`);
  await waitFor(() => statSync(part, { throwIfNoEntry: false })?.size === cut, 'the first bytes to arrive');
  req.destroy();
  await waitFor(() => outcomes.length > before, 'the coordinator to notice the cut');
  return outcomes[before]!.error as StorageError;
}

const prefixOf = (): string => `${storage.location.prefix}/`;
const keyOf = (name: string): string => `none/${name}`;
const leftovers = (): string[] => readdirSync(join(scratch, 'uploads'));

function declare(id: string, name: string, over: Partial<{ narHash: string; narSize: number }> = {}): string {
  const key = keyOf(name);
  declared.set(id, { key, narHash: narHashOf(nar), narSize: nar.length, ...over });
  return key;
}

describe('NAR uploads into object storage', () => {
  it('streams a NAR of several parts into the store and publishes it once verified', async () => {
    const key = declare('u1', 'whole');
    const answer = await put('u1', nar);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ key, fileSize: nar.length, narSize: nar.length });
    expect((await collect((await storage.get('nar', key))!)).equals(nar)).toBe(true);
    expect(await target.pendingUploads(prefixOf())).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('resumes after the connection is cut, also after a restart, sending only the rest', async () => {
    const key = declare('u2', 'resumed');
    const cut = 2 * MIN_PART_SIZE + 777_777;
    const error = await cutUpload('u2', nar, cut);
    expect(error.code).toBe('interrupted');
    expect(error.received).toBe(cut);
    expect(await storage.stat('nar', key)).toBeNull(); // nothing visible before it is verified
    expect(await target.pendingUploads(prefixOf())).toBe(1); // the parts sent are kept in the store

    await open(); // a restarted coordinator finds the upload in its scratch directory
    expect((await uploads.status('u2'))?.received).toBe(cut);
    const answer = await put('u2', nar.subarray(cut), cut);
    expect(answer.status).toBe(200);
    expect((await collect((await storage.get('nar', key))!)).equals(nar)).toBe(true);
    expect(await target.pendingUploads(prefixOf())).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('resumes at an offset inside a part the store already holds (that part is sent again)', async () => {
    const key = declare('u3', 'rewound');
    const cut = 2 * MIN_PART_SIZE + 100;
    expect((await cutUpload('u3', nar, cut)).code).toBe('interrupted');
    const back = MIN_PART_SIZE + 12_345; // the client knows of less than the coordinator kept
    const answer = await put('u3', nar.subarray(back), back);
    expect(answer.status).toBe(200);
    expect((await collect((await storage.get('nar', key))!)).equals(nar)).toBe(true);
    expect(await target.pendingUploads(prefixOf())).toBe(0);
  });

  it('refuses a NAR whose hash does not match: nothing visible, the multipart upload aborted', async () => {
    const other = Buffer.from(nar);
    other.writeUInt8(other.readUInt8(other.length - 1000) ^ 1, other.length - 1000); // the hash differs
    const key = declare('u4', 'mismatch', { narHash: narHashOf(other) });
    const answer = await put('u4', nar);
    expect(answer.status).toBe(400);
    expect((outcomes.at(-1)!.error as StorageError).code).toBe('hash-mismatch');
    expect(await storage.stat('nar', key)).toBeNull();
    expect(await target.pendingUploads(prefixOf())).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('refuses a body larger than its declared size allows, and a declared size past the limit', async () => {
    const key = declare('u5', 'oversized', { narSize: 1_000_000 });
    const answer = await put('u5', nar).catch((error: Error) => ({ status: 0, body: error.message }));
    // Refused as soon as the NAR passes its size (or the client sees the close mid-body).
    expect([400, 413, 0]).toContain(answer.status);
    await waitFor(() => outcomes.at(-1)?.id === 'u5', 'the refusal');
    expect(['too-large', 'size-mismatch']).toContain((outcomes.at(-1)!.error as StorageError).code);
    expect(await storage.stat('nar', key)).toBeNull();
    expect(await target.pendingUploads(prefixOf())).toBe(0);

    declare('u5b', 'huge', { narSize: 64 * 2 ** 30 });
    const huge = await put('u5b', nar).catch((error: Error) => ({ status: 0, body: error.message }));
    expect([413, 0]).toContain(huge.status);
    await waitFor(() => outcomes.at(-1)?.id === 'u5b', 'the refusal');
    expect((outcomes.at(-1)!.error as StorageError).code).toBe('too-large');
    expect(await target.pendingUploads(prefixOf())).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('refuses bodies that lie about their size (shorter and longer than declared)', async () => {
    const shortKey = declare('u6', 'short', { narSize: nar.length + 10 });
    expect((await put('u6', nar)).status).toBe(400);
    expect(['size-mismatch', 'truncated']).toContain((outcomes.at(-1)!.error as StorageError).code);
    const longKey = declare('u7', 'long', { narSize: nar.length - 10 });
    expect((await put('u7', nar)).status).toBe(400);
    expect(['size-mismatch', 'corrupt-nar', 'hash-mismatch']).toContain(
      (outcomes.at(-1)!.error as StorageError).code,
    );
    expect(await storage.stat('nar', shortKey)).toBeNull();
    expect(await storage.stat('nar', longKey)).toBeNull();
    expect(await target.pendingUploads(prefixOf())).toBe(0);
  });

  it('the sweep aborts the multipart upload of a cut upload nobody resumed', async () => {
    declare('u8', 'abandoned');
    expect((await cutUpload('u8', nar, 2 * MIN_PART_SIZE + 5)).code).toBe('interrupted');
    expect(await target.pendingUploads(prefixOf())).toBe(1);
    expect(await uploads.sweep(new Date(Date.now() + 60_000))).toBe(1);
    expect(await target.pendingUploads(prefixOf())).toBe(0);
    expect(leftovers()).toEqual([]);
  });
});
