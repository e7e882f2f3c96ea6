// Where an object-storage Storage keeps its objects: `s3://bucket/prefix`,
// with the options a self-hosted server needs as query parameters (the way
// Nix names its S3 binary caches): `endpoint`, `region`, `path-style`,
// `presign`. Everything left out comes from the usual AWS environment
// (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE, the
// credentials chain), so a URL names no secret.
import { S3Client } from '@aws-sdk/client-s3';
import { StorageError } from '../errors.js';
import { checkStorageKey } from './storage.js';

/** An `s3://` storage location, parsed. */
export interface S3Location {
  readonly bucket: string;
  /** Key prefix without leading or trailing `/`; '' for the bucket's root. */
  readonly prefix: string;
  /** `http(s)://host[:port]` of the S3 API; undefined: the SDK's (environment or AWS). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), what MinIO, Garage and Ceph RGW usually need. */
  readonly forcePathStyle: boolean;
  /** Serve NARs and logs by redirecting to a URL presigned for this many seconds; 0 streams them. */
  readonly presignSeconds: number;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const OPTIONS = new Set(['endpoint', 'region', 'path-style', 'presign']);

/** True when `value` names object storage rather than a directory. */
export function isS3Url(value: string): boolean {
  return value.startsWith('s3://');
}

/** Parses `s3://bucket/prefix?endpoint=…&region=…&path-style=true&presign=SECONDS`. */
export function parseS3Url(value: string): S3Location {
  const bad = (why: string): never => {
    throw new StorageError(
      'invalid-location',
      `invalid object storage URL ${JSON.stringify(value)}: ${why}`,
      {
        expected: 's3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&path-style=true|false&presign=SECONDS]',
      },
    );
  };
  if (!isS3Url(value)) bad('it does not start with s3://');
  const rest = value.slice('s3://'.length);
  const [path = '', query = ''] = splitOnce(rest, '?');
  const [bucket = '', rawPrefix = ''] = splitOnce(path, '/');
  if (!BUCKET.test(bucket)) bad('the bucket name must be 3-63 characters of a-z, 0-9, "." and "-"');
  const prefix = rawPrefix.replace(/^\/+|\/+$/g, '');
  if (prefix !== '') {
    try {
      checkStorageKey(prefix);
    } catch {
      bad('the prefix must be /-separated segments of [A-Za-z0-9+._?=-]');
    }
  }
  const params = new URLSearchParams(query);
  for (const name of params.keys()) if (!OPTIONS.has(name)) bad(`unknown option ${JSON.stringify(name)}`);
  const endpoint = params.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(endpoint))
    bad('endpoint must be http(s)://HOST[:PORT]');
  const pathStyle = params.get('path-style');
  if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false')
    bad('path-style must be true or false');
  const presign = Number(params.get('presign') ?? 0);
  if (!Number.isInteger(presign) || presign < 0 || presign > 604_800)
    bad('presign must be whole seconds between 0 and 604800 (7 days)');
  return {
    bucket,
    prefix,
    ...(endpoint === undefined ? {} : { endpoint: endpoint.replace(/\/$/, '') }),
    ...(params.get('region') === null ? {} : { region: params.get('region')! }),
    // An endpoint of one's own is usually a self-hosted server: path style unless told otherwise.
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === 'true',
    presignSeconds: presign,
  };
}

/** SDK client settings that `createS3Storage` accepts on top of the location (tests: credentials). */
export interface S3ClientOverrides {
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The SDK client for `location`. */
export function createS3Client(location: S3Location, overrides: S3ClientOverrides = {}): S3Client {
  // The SDK is pinned to the last releases for Node 20 on purpose (see the
  // package.json): its multi-line warning about later releases is not for operators.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const region = location.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  return new S3Client({
    ...(location.endpoint === undefined ? {} : { endpoint: location.endpoint }),
    // Self-hosted servers ignore the region, but the SDK needs one to sign.
    ...(region !== undefined ? { region } : location.endpoint !== undefined ? { region: 'us-east-1' } : {}),
    forcePathStyle: location.forcePathStyle,
    ...(overrides.credentials === undefined ? {} : { credentials: { ...overrides.credentials } }),
    // Checksums only where S3 requires them: with the SDK's default a streamed
    // PutObject goes out aws-chunked, which some servers store framing and all
    // as the object's data. Our own hashes check what matters (see s3-staged-write.ts).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function splitOnce(s: string, separator: string): [string, string] {
  const i = s.indexOf(separator);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}
