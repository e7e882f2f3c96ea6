// A staged write to S3: the object's bytes go out as parts of a multipart
// upload while they arrive, and the upload is completed (the object appears,
// atomically) only when the caller commits, after verifying the bytes; an
// abort removes the parts. The upload is created with the first full part:
// an object smaller than one part is a single PutObject at commit.
//
// Parts have one fixed size, so a resumed write knows which parts it keeps
// from the offset alone: those wholly below the offset the client resumes at.
// The state (upload id, part size, ETags of the parts done) is what the
// caller saves with its partial upload; it needs no ListParts, which not
// every S3 server has. One part uploads while the next fills: memory stays
// at about two parts per write.
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StorageError } from '../errors.js';
import type { StageOptions, StagedWrite, StoredObject } from './storage.js';

/** Smallest part S3 accepts (but for the last). */
export const MIN_PART_SIZE = 5 * 2 ** 20;
/** Most parts one upload may have. */
const MAX_PARTS = 10_000;

/** The saved state of a multipart upload: enough to continue or abort it. */
interface MultipartState {
  readonly v: 1;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly partSize: number;
  /** ETags of parts 1..n, all done. */
  readonly etags: readonly string[];
}

/** What a staged write needs from its storage. */
export interface StagedTarget {
  readonly client: S3Client;
  readonly bucket: string;
  /** The object's full key in the bucket. */
  readonly objectKey: string;
  /** Smallest part size to use; default 8 MiB. */
  readonly partSize?: number;
  /** The object's metadata once it is visible (HeadObject). */
  stat(): Promise<StoredObject | null>;
}

/** Starts (or resumes) a staged write of `target`; see the file header. */
export function createS3StagedWrite(target: StagedTarget, options: StageOptions): StagedWrite {
  const partSize = partSizeFor(options.maxSize, target.partSize);
  const resumed = resumedState(options, target, partSize);
  return new S3StagedWrite(target, partSize, resumed, options.onState);
}

/** Aborts the multipart upload that a saved state names; an upload already gone is fine. */
export async function abortSavedUpload(client: S3Client, state: string): Promise<void> {
  const saved = parseState(state);
  if (saved === null) return;
  await abortUpload(client, saved.bucket, saved.key, saved.uploadId);
}

class S3StagedWrite implements StagedWrite {
  readonly durable: number;
  private uploadId: string | null;
  private readonly etags: string[];
  /** Bytes not yet sent as a part. */
  private buffer: Buffer[] = [];
  private buffered = 0;
  /** The next byte position the write expects. */
  private next: number;
  private inflight: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly target: StagedTarget,
    private readonly partSize: number,
    resumed: { uploadId: string | null; etags: string[] },
    private readonly onState: ((state: string) => Promise<void>) | undefined,
  ) {
    this.uploadId = resumed.uploadId;
    this.etags = resumed.etags;
    this.durable = this.etags.length * partSize;
    this.next = this.durable;
  }

  async write(chunk: Uint8Array, position: number): Promise<void> {
    this.throwIfFailed();
    const end = position + chunk.length;
    if (end <= this.next) return; // held already
    if (position > this.next)
      throw new StorageError('io', `staged write of ${this.target.objectKey} skipped bytes`, {
        expected: `byte ${this.next}`,
        found: `byte ${position}`,
      });
    const fresh = chunk.subarray(this.next - position);
    this.buffer.push(Buffer.from(fresh.buffer, fresh.byteOffset, fresh.byteLength));
    this.buffered += fresh.length;
    this.next = end;
    while (this.buffered >= this.partSize) await this.sendPart(this.take(this.partSize));
  }

  async commit(size: number): Promise<StoredObject> {
    this.throwIfFailed();
    if (size !== this.next)
      throw new StorageError('io', `staged write of ${this.target.objectKey} is incomplete`, {
        expected: `${size} bytes`,
        found: `${this.next} bytes`,
      });
    const rest = this.take(this.buffered);
    if (this.uploadId === null) {
      await this.target.client.send(
        new PutObjectCommand({
          Bucket: this.target.bucket,
          Key: this.target.objectKey,
          Body: rest,
          ContentLength: rest.length,
        }),
      );
    } else {
      if (rest.length > 0 || this.etags.length === 0) await this.sendPart(rest);
      await this.settle();
      await this.target.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.target.bucket,
          Key: this.target.objectKey,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    }
    const stored = await this.target.stat();
    if (stored === null || stored.size !== size)
      throw new StorageError(
        'io',
        `the object store holds ${this.target.objectKey} wrongly after writing it`,
        {
          expected: `${size} bytes`,
          found: stored === null ? 'no object' : `${stored.size} bytes`,
        },
      );
    return stored;
  }

  async suspend(): Promise<string | null> {
    await this.inflight;
    this.buffer = [];
    this.buffered = 0;
    return this.uploadId === null ? null : this.state();
  }

  async abort(): Promise<void> {
    await this.inflight;
    this.buffer = [];
    this.buffered = 0;
    if (this.uploadId !== null)
      await abortUpload(this.target.client, this.target.bucket, this.target.objectKey, this.uploadId);
    this.uploadId = null;
  }

  private state(): string {
    const state: MultipartState = {
      v: 1,
      bucket: this.target.bucket,
      key: this.target.objectKey,
      uploadId: this.uploadId!,
      partSize: this.partSize,
      etags: [...this.etags],
    };
    return JSON.stringify(state);
  }

  /** Waits for the part in flight, then starts this one (numbered after the parts done). */
  private async sendPart(body: Buffer): Promise<void> {
    await this.settle();
    if (this.uploadId === null) await this.createUpload();
    const partNumber = this.etags.length + 1;
    if (partNumber > MAX_PARTS) throw new StorageError('too-large', 'the object needs more than 10000 parts');
    this.etags.push(''); // reserved: part numbers follow the order of the bytes
    this.inflight = this.uploadPart(partNumber, body).then(
      (etag) => {
        this.etags[partNumber - 1] = etag;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
  }

  private async uploadPart(partNumber: number, body: Buffer): Promise<string> {
    const answer = await this.target.client.send(
      new UploadPartCommand({
        Bucket: this.target.bucket,
        Key: this.target.objectKey,
        UploadId: this.uploadId!,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.length,
        // The store checks the part against this and refuses a damaged one (BadDigest).
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    if (answer.ETag === undefined) throw new StorageError('io', `no ETag for part ${partNumber}`);
    return answer.ETag;
  }

  private async createUpload(): Promise<void> {
    const answer = await this.target.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.objectKey }),
    );
    if (answer.UploadId === undefined) throw new StorageError('io', 'the object store gave no upload id');
    this.uploadId = answer.UploadId;
    await this.onState?.(this.state());
  }

  /** Waits for the part in flight; throws its failure. */
  private async settle(): Promise<void> {
    await this.inflight;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== null)
      throw new StorageError(
        'io',
        `uploading a part of ${this.target.objectKey} failed: ${(this.failure as Error).message}`,
        { cause: this.failure },
      );
  }

  /** Removes and returns the first `n` buffered bytes as one buffer. */
  private take(n: number): Buffer {
    const all = this.buffer.length === 1 ? this.buffer[0]! : Buffer.concat(this.buffer);
    const out = all.subarray(0, n);
    const left = all.subarray(n);
    this.buffer = left.length > 0 ? [left] : [];
    this.buffered = left.length;
    return out;
  }
}

/** Parts of at least `minimum` (default 8 MiB), whole MiB, large enough that `maxSize` fits in 10000. */
function partSizeFor(maxSize: number, minimum = 8 * 2 ** 20): number {
  const needed = Math.ceil(maxSize / MAX_PARTS / 2 ** 20) * 2 ** 20;
  return Math.max(MIN_PART_SIZE, minimum, needed);
}

/** The parts of a saved upload that a resume at `keepBelow` keeps. */
function resumedState(
  options: StageOptions,
  target: StagedTarget,
  partSize: number,
): { uploadId: string | null; etags: string[] } {
  const saved = options.resume === undefined ? null : parseState(options.resume);
  if (saved === null || saved.bucket !== target.bucket || saved.key !== target.objectKey)
    return { uploadId: null, etags: [] };
  // Another part size cannot line up: the same upload is reused and its parts rewritten from 1.
  if (saved.partSize !== partSize) return { uploadId: saved.uploadId, etags: [] };
  const whole = Math.floor((options.keepBelow ?? 0) / partSize);
  const done = saved.etags.findIndex((etag) => etag === '');
  const kept = Math.min(whole, done < 0 ? saved.etags.length : done);
  return { uploadId: saved.uploadId, etags: saved.etags.slice(0, kept) };
}

function parseState(state: string): MultipartState | null {
  try {
    const s = JSON.parse(state) as Partial<MultipartState> | null;
    if (
      s?.v !== 1 ||
      typeof s.bucket !== 'string' ||
      typeof s.key !== 'string' ||
      typeof s.uploadId !== 'string' ||
      typeof s.partSize !== 'number' ||
      !Array.isArray(s.etags) ||
      !s.etags.every((e) => typeof e === 'string')
    )
      return null;
    return s as MultipartState;
  } catch {
    return null;
  }
}

async function abortUpload(client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchUpload') return;
    throw new StorageError(
      'io',
      `aborting the multipart upload of ${key} failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
