// Storage in an S3-compatible object store: `<prefix>/nar/<key>` and
// `<prefix>/log/<key>` in one bucket. S3 makes every object appear whole or
// not at all (PutObject, CompleteMultipartUpload), which is the atomicity the
// Storage interface promises. Work files (partial uploads, live logs) stay
// in a local scratch directory; NAR uploads stream through to a multipart
// upload that is completed only once verified (`stage`, s3-staged-write.ts).
import { mkdir, rm, unlink } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { StorageError } from '../errors.js';
import { createS3Client, parseS3Url, type S3ClientOverrides, type S3Location } from './s3-location.js';
import { abortSavedUpload, createS3StagedWrite } from './s3-staged-write.js';
import { checkStorageKey, type Storage, type StorageArea, type StoredObject } from './storage.js';

/** Options of {@link createS3Storage}. */
export interface S3StorageOptions extends S3ClientOverrides {
  /** `s3://bucket/prefix?…` (see s3-location.ts). */
  readonly url: string;
  /** Local directory for work files; created if needed. */
  readonly scratchDir: string;
  /** Smallest multipart part, bytes (at least 5 MiB). Default 8 MiB. */
  readonly partSize?: number;
  /** Only read (a helper process of the binary cache): the scratch directory is neither created nor emptied. */
  readonly readOnly?: boolean;
}

/** An object-store Storage, with the SDK client it uses (`close` releases its sockets). */
export interface S3Storage extends Storage {
  readonly location: S3Location;
  readonly client: S3Client;
  close(): void;
}

/** Opens the bucket at `options.url` (checking that it answers) as a Storage. */
export async function createS3Storage(options: S3StorageOptions): Promise<S3Storage> {
  const location = parseS3Url(options.url);
  const client = createS3Client(location, options);
  const { bucket } = location;
  await checkBucket(client, location);
  const tmpDir = join(options.scratchDir, 'tmp');
  if (options.readOnly !== true) {
    await mkdir(options.scratchDir, { recursive: true, mode: 0o700 });
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  }

  const base = location.prefix === '' ? '' : `${location.prefix}/`;
  const objectKey = (area: StorageArea, key: string): string => `${base}${area}/${checkStorageKey(key)}`;

  async function statOf(area: StorageArea, key: string): Promise<StoredObject | null> {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey(area, key) }));
      return { area, key, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw io(`reading metadata of ${area} ${key}`, error);
    }
  }

  async function upload(area: StorageArea, key: string, body: Readable | Uint8Array): Promise<StoredObject> {
    const Key = objectKey(area, key);
    try {
      if (body instanceof Uint8Array) {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key, Body: body, ContentLength: body.length }),
        );
      } else {
        // lib-storage: one PutObject below a part, else parts in parallel; a failure aborts the upload.
        const partSize = Math.max(options.partSize ?? 8 * 2 ** 20, 5 * 2 ** 20);
        await new Upload({
          client,
          params: { Bucket: bucket, Key, Body: body },
          partSize,
          queueSize: 4,
        }).done();
      }
    } catch (error) {
      throw error instanceof StorageError ? error : io(`storing ${area} ${key}`, error);
    }
    const stored = await statOf(area, key);
    if (stored === null)
      throw new StorageError('io', `storing ${area} ${key}: the object is not there after`);
    return stored;
  }

  return {
    location,
    client,
    scratchDir: options.scratchDir,
    close: () => client.destroy(),

    put: (area, key, source) =>
      upload(area, key, source instanceof Uint8Array ? source : Readable.from(source, { objectMode: false })),

    async putFile(area, key, localPath) {
      const stored = await upload(area, key, createReadStream(localPath, { highWaterMark: 1 << 20 }));
      await unlink(localPath);
      return stored;
    },

    async get(area, key, range) {
      const start = range?.start ?? 0;
      if (range?.end !== undefined && range.end <= start)
        return (await statOf(area, key)) === null ? null : Readable.from([]);
      const Range =
        range === undefined || (start === 0 && range.end === undefined)
          ? undefined
          : `bytes=${start}-${range.end === undefined ? '' : range.end - 1}`;
      try {
        const answer = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: objectKey(area, key), Range }),
        );
        return answer.Body as Readable;
      } catch (error) {
        if (isNotFound(error)) return null;
        // A start at or past the end: what a file read there gives, nothing.
        if ((error as { name?: string }).name === 'InvalidRange') return Readable.from([]);
        throw io(`reading ${area} ${key}`, error);
      }
    },

    stat: statOf,

    async delete(area, key) {
      if ((await statOf(area, key)) === null) return false;
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(area, key) }));
        return true;
      } catch (error) {
        throw io(`deleting ${area} ${key}`, error);
      }
    },

    async *list(area, prefix = '') {
      const areaBase = `${base}${area}/`;
      let ContinuationToken: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: areaBase + prefix, ContinuationToken }),
          );
        } catch (error) {
          throw io(`listing ${area} ${prefix}`, error);
        }
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined || !o.Key.startsWith(areaBase)) continue;
          yield {
            area,
            key: o.Key.slice(areaBase.length),
            size: o.Size ?? 0,
            modifiedAt: o.LastModified ?? new Date(0),
          };
        }
        ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
    },

    stage: (area, key, stageOptions) =>
      Promise.resolve(
        createS3StagedWrite(
          {
            client,
            bucket,
            objectKey: objectKey(area, key),
            ...(options.partSize === undefined ? {} : { partSize: options.partSize }),
            stat: () => statOf(area, key),
          },
          stageOptions,
        ),
      ),

    discardStaged: (state) => abortSavedUpload(client, state),

    async directUrl(area, key) {
      if (location.presignSeconds === 0) return null;
      const command = new GetObjectCommand({ Bucket: bucket, Key: objectKey(area, key) });
      return await getSignedUrl(client, command, { expiresIn: location.presignSeconds });
    },
  };
}

async function checkBucket(client: S3Client, location: S3Location): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: location.bucket }));
  } catch (error) {
    client.destroy();
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const why =
      status === 404
        ? 'the bucket does not exist'
        : status === 403
          ? 'access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE)'
          : (error as Error).message;
    throw new StorageError(
      'io',
      `cannot open object storage s3://${location.bucket}/${location.prefix} at ${location.endpoint ?? 'the AWS endpoint'}: ${why}`,
      { cause: error },
    );
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

function io(what: string, cause: unknown): StorageError {
  return new StorageError('io', `${what} failed: ${(cause as Error).message}`, { cause });
}
