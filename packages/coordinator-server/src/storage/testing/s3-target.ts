// The S3 endpoint the object-storage tests run against: the one named in the
// environment (GBC_TEST_S3_ENDPOINT, GBC_TEST_S3_BUCKET and the usual AWS_*
// credentials, e.g. a MinIO or an AWS bucket), or else an s3rver started on
// 127.0.0.1:0 in a fresh temporary directory and stopped by `stop()`. Tests
// use a fresh prefix each (`url()`), so that they never see each other's objects.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';

/** Credentials s3rver accepts (any other pair gets 403). */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** An S3 endpoint for tests. */
export interface S3TestTarget {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** True when the suite started its own s3rver. */
  readonly local: boolean;
  /** A fresh `s3://bucket/prefix?endpoint=…&path-style=…` for one test. */
  url(): string;
  /** The environment a child process needs to reach the target (AWS_* credentials and region). */
  readonly env: Readonly<Record<string, string>>;
  /** Multipart uploads neither completed nor aborted whose key starts with `prefix` (the bucket's key). */
  pendingUploads(prefix: string): Promise<number>;
  stop(): Promise<void>;
}

/** Starts (or names) the S3 endpoint of a test file; see the file header. */
export async function startS3Target(): Promise<S3TestTarget> {
  const endpoint = process.env.GBC_TEST_S3_ENDPOINT;
  if (endpoint !== undefined && endpoint !== '') return environmentTarget(endpoint);
  return await startS3rver();
}

function environmentTarget(endpoint: string): S3TestTarget {
  const bucket = process.env.GBC_TEST_S3_BUCKET;
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!bucket || !accessKeyId || !secretAccessKey)
    throw new Error(
      'GBC_TEST_S3_ENDPOINT needs GBC_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY too',
    );
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const pathStyle = process.env.GBC_TEST_S3_PATH_STYLE !== 'false';
  const client = clientFor(endpoint, region, { accessKeyId, secretAccessKey }, pathStyle);
  return makeTarget({
    endpoint,
    bucket,
    region,
    credentials: { accessKeyId, secretAccessKey },
    local: false,
    pathStyle,
    async pendingUploads(prefix) {
      const answer = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      return answer.Uploads?.length ?? 0;
    },
    stop: () => Promise.resolve(client.destroy()),
  });
}

async function startS3rver(): Promise<S3TestTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'gbc-s3rver-'));
  const bucket = 'gbc-test';
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', join(import.meta.dirname, 's3rver-main.mjs'), dir, bucket],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  let ready: { port: number; uploadsDir: string };
  try {
    ready = await firstLine(child, () => stderr);
  } catch (error) {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return makeTarget({
    endpoint: `http://127.0.0.1:${ready.port}`,
    bucket,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    local: true,
    pathStyle: true,
    // s3rver has no ListMultipartUploads: its upload directories name their keys.
    async pendingUploads(prefix) {
      let count = 0;
      for (const id of await readdir(ready.uploadsDir).catch(() => [] as string[])) {
        const key = await readFile(join(ready.uploadsDir, id, 'key'), 'utf8').catch(() => '');
        if (key.startsWith(prefix)) count++;
      }
      return count;
    },
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  });
}

interface TargetParts {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly local: boolean;
  readonly pathStyle: boolean;
  pendingUploads(prefix: string): Promise<number>;
  stop(): Promise<void>;
}

function makeTarget(parts: TargetParts): S3TestTarget {
  const run = `gbc-test-${randomBytes(6).toString('hex')}`;
  let n = 0;
  return {
    ...parts,
    url() {
      const query = new URLSearchParams({
        endpoint: parts.endpoint,
        region: parts.region,
        'path-style': String(parts.pathStyle),
      });
      return `s3://${parts.bucket}/${run}/${++n}?${query.toString()}`;
    },
    env: {
      AWS_ACCESS_KEY_ID: parts.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: parts.credentials.secretAccessKey,
      AWS_REGION: parts.region,
    },
  };
}

/** An SDK client for checks the storage does not offer, set up as the storage sets up its own. */
export function clientFor(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  forcePathStyle = true,
): S3Client {
  return new S3Client({
    endpoint,
    region,
    credentials,
    forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function firstLine(child: ChildProcess, stderr: () => string): Promise<{ port: number; uploadsDir: string }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const fail = (why: string): void => reject(new Error(`s3rver did not start: ${why}\n${stderr()}`));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
    child.once('error', (error) => fail(error.message));
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as { port: number; uploadsDir: string });
      } catch {
        fail(`unexpected output ${JSON.stringify(line.slice(0, 200))}`);
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}
