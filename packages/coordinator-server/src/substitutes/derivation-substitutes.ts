// Submission by name: a derivation the coordinator does not hold is fetched,
// with the closure of `.drv` files it needs, from the configured derivation
// substitute servers (binary caches that serve derivations as store items: a
// Guix Data Service, `guix publish`, a Nix cache made by `nix copy`), as the
// original coordinator's agents fetch them. Each `.drv` comes as a narinfo and
// a NAR of one regular file; the narinfo must name the path asked for and,
// when trusted keys are configured, carry a signature by one of them (Nix
// `Sig:` or Guix `Signature:`); the NAR must match its NarHash and NarSize
// and stay within the limits. The texts are then checked and recorded like
// uploads (derivation-intake.ts), whose path check authenticates each text.
import { createHash } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  isNarInfoTrusted,
  NarError,
  parseDerivation,
  parseHash,
  parseNarInfo,
  regularFileOfNar,
  storePathHashPart,
  verifyGuixNarInfo,
  type GuixPublicKey,
  type NarInfo,
  type PublicKey,
} from '@gbc/store';
import { createDecompressor } from '../compression/codecs.js';
import { createProgramFilter } from '../compression/child-process-filter.js';
import { isCompression } from '../compression/compression.js';
import { HttpError } from '../http/http-error.js';
import type { DerivationBytes } from '../client-api/derivation-intake.js';

/** Where derivations come from, and the limits on what is fetched. */
export interface DerivationSubstitutesOptions {
  /** Binary caches to ask, in order (`https://data.guix.gnu.org`, `http://127.0.0.1:8080`). */
  readonly urls: readonly string[];
  /** Nix keys (`name:base64`) whose `Sig:` is trusted. */
  readonly nixKeys?: readonly PublicKey[];
  /** Guix keys whose `Signature:` is trusted. */
  readonly guixKeys?: readonly GuixPublicKey[];
  /** Bound on each request, headers and body, ms. Default 30 s. */
  readonly timeoutMs?: number;
  /** Most derivations fetched for one submission. Default 100,000. */
  readonly maxDerivations?: number;
  /** Largest `.drv` accepted (its NarSize bounds the decompressed bytes). Default 16 MiB. */
  readonly maxDerivationBytes?: number;
  /** Requests in flight at once. Default 8. */
  readonly concurrency?: number;
}

/** Fetches derivations the coordinator lacks; see the file header. */
export interface DerivationSubstitutes {
  readonly urls: readonly string[];
  /**
   * Fetches the derivations among `paths` that `missing` says are not held,
   * and their input derivations likewise, as far as needed; returns their texts.
   * @throws HttpError `not-found` (no server has one of them), `unprocessable-derivation`
   * (a server answered something wrong), `unavailable` (none could be reached).
   */
  fetchClosure(
    paths: readonly string[],
    missing: (paths: readonly string[]) => Promise<string[]>,
  ): Promise<DerivationBytes[]>;
}

/** A narinfo is a few hundred bytes; a longer answer is not one. */
const MAX_NARINFO_BYTES = 64 * 1024;

/** Creates the fetcher over `options.urls`. */
export function createDerivationSubstitutes(options: DerivationSubstitutesOptions): DerivationSubstitutes {
  const urls = options.urls.map((u) => u.replace(/\/+$/, ''));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxDerivations = options.maxDerivations ?? 100_000;
  const maxBytes = options.maxDerivationBytes ?? 16 << 20;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const nixKeys = options.nixKeys ?? [];
  const guixKeys = options.guixKeys ?? [];
  const signed = nixKeys.length > 0 || guixKeys.length > 0;

  /** The text of `path` from the first server that has it, checked. */
  async function fetchOne(path: string): Promise<Uint8Array> {
    const unreachable: string[] = [];
    for (const base of urls) {
      let info: NarInfo | null;
      try {
        info = await narinfoOf(base, path);
      } catch (error) {
        if (error instanceof HttpError) throw error;
        unreachable.push(`${base}: ${(error as Error).message}`);
        continue;
      }
      if (info === null) continue;
      return narOf(base, path, info);
    }
    if (unreachable.length > 0) {
      throw new HttpError('unavailable', `cannot fetch the derivation ${path}: ${unreachable.join('; ')}`, {
        details: { path, servers: unreachable },
      });
    }
    throw new HttpError(
      'not-found',
      `the coordinator does not hold the derivation ${path}, and no derivation substitute server has it (asked ${urls.join(', ')})`,
      {
        details: { path, servers: urls },
      },
    );
  }

  async function narinfoOf(base: string, path: string): Promise<NarInfo | null> {
    const storeDir = path.slice(0, path.lastIndexOf('/'));
    const res = await fetch(`${base}/${storePathHashPart(path)}.narinfo`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`narinfo: HTTP ${res.status}`);
    }
    const text = await readCapped(res, MAX_NARINFO_BYTES, `${base}: the narinfo of ${path}`);
    let info: NarInfo;
    try {
      info = parseNarInfo(text, { storeDir });
    } catch (error) {
      throw refused(path, base, `its narinfo is malformed: ${(error as Error).message}`);
    }
    if (info.storePath !== path) throw refused(path, base, `its narinfo is for ${info.storePath}`);
    if (signed && !isNarInfoTrusted(info, nixKeys) && !verifyGuixNarInfo(info, guixKeys).valid) {
      throw refused(path, base, 'its narinfo is not signed by a trusted key');
    }
    if (info.narSize > maxBytes)
      throw refused(
        path,
        base,
        `its NAR is ${info.narSize} bytes, more than the ${maxBytes} a derivation may have`,
      );
    return info;
  }

  async function narOf(base: string, path: string, info: NarInfo): Promise<Uint8Array> {
    const file = info.files.find((f) => decoderOf(f.compression) !== undefined);
    if (file === undefined)
      throw refused(
        path,
        base,
        `its narinfo offers no NAR in a compression the coordinator reads (${info.files.map((f) => f.compression).join(', ')})`,
      );
    const url = new URL(file.url, `${base}/`);
    if (url.origin !== new URL(base).origin)
      throw refused(
        path,
        base,
        `its NAR is on another server (${url.origin}); only ${new URL(base).origin} is trusted for it`,
      );
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new HttpError('unavailable', `${base}: the NAR of ${path}: HTTP ${res.status}`, {
        details: { path, url: url.href },
      });
    }
    // The compressed stream is bounded by its declared size (or the NAR's, with room for framing), the NAR by its NarSize.
    const compressedCap = file.fileSize ?? info.narSize + 64 * 1024;
    const chunks: Buffer[] = [];
    let narBytes = 0;
    try {
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
        capped(compressedCap, () =>
          refused(path, base, `its compressed NAR is longer than the ${compressedCap} bytes declared`),
        ),
        decoderOf(file.compression)!(),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            narBytes += chunk.length;
            if (narBytes > info.narSize)
              callback(refused(path, base, `its NAR is longer than the NarSize ${info.narSize}`));
            else {
              chunks.push(chunk);
              callback();
            }
          },
        }),
      );
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw refused(path, base, `its NAR cannot be read: ${(error as Error).message}`);
    }
    const nar = Buffer.concat(chunks);
    if (nar.length !== info.narSize || !hasNarHash(nar, info.narHash)) {
      throw refused(
        path,
        base,
        `its NAR (${nar.length} bytes) does not match the narinfo's NarHash and NarSize (${info.narSize} bytes)`,
      );
    }
    return regularFileOf(nar, path, base);
  }

  return {
    urls,
    async fetchClosure(paths, missing) {
      const seen = new Set<string>(await missing(paths.filter((p) => p.endsWith('.drv'))));
      const queue = [...seen];
      const out: DerivationBytes[] = [];
      const worker = async (): Promise<void> => {
        for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
          const bytes = await fetchOne(path);
          out.push({ path, bytes });
          let inputs: string[];
          try {
            inputs = [...parseDerivation(bytes).inputDrvs.keys()].filter((p) => !seen.has(p));
          } catch (error) {
            throw new HttpError(
              'unprocessable-derivation',
              `the derivation ${path} fetched from a substitute server cannot be parsed: ${(error as Error).message}`,
              { details: { path } },
            );
          }
          for (const p of await missing(inputs)) {
            if (seen.has(p)) continue;
            if (seen.size >= maxDerivations) {
              throw new HttpError(
                'payload-too-large',
                `the closure of ${paths.join(', ')} has more than ${maxDerivations} derivations the coordinator lacks`,
              );
            }
            seen.add(p);
            queue.push(p);
          }
        }
      };
      // Workers stop when the queue is empty; one that fetches more inputs wakes none, so loop until done.
      while (queue.length > 0)
        await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      return out;
    },
  };
}

/** A decompressor for a narinfo's `Compression` (xz and bzip2 too: Nix caches use them), or undefined. */
function decoderOf(compression: string): (() => NodeJS.ReadWriteStream) | undefined {
  if (isCompression(compression)) return () => createDecompressor(compression);
  if (compression === 'xz')
    return () =>
      createProgramFilter({
        program: 'xz',
        args: ['-d', '-c', '-q'],
        failureCode: 'corrupt-compression',
        what: 'xz decompression',
      });
  if (compression === 'bzip2')
    return () =>
      createProgramFilter({
        program: 'bzip2',
        args: ['-d', '-c', '-q'],
        failureCode: 'corrupt-compression',
        what: 'bzip2 decompression',
      });
  return undefined;
}

/** Passes at most `limit` bytes; past it, fails with `tooLong()`. */
function capped(limit: number, tooLong: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(tooLong());
      else callback(null, chunk);
    },
  });
}

/** The body as text, refusing more than `limit` bytes without reading them all. */
async function readCapped(res: Response, limit: number, what: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new Error(`${what} is longer than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether `nar` has the narinfo's NarHash (any form parseHash reads). */
function hasNarHash(nar: Uint8Array, narHash: string): boolean {
  let expected: Uint8Array;
  try {
    expected = parseHash(narHash, 'sha256').digest;
  } catch {
    return false;
  }
  return Buffer.from(expected).equals(createHash('sha256').update(nar).digest());
}

/** The contents of a NAR that holds one regular file (a `.drv`); anything else is refused. */
async function regularFileOf(nar: Uint8Array, path: string, base: string): Promise<Uint8Array> {
  try {
    return await regularFileOfNar(nar);
  } catch (error) {
    if (!(error instanceof NarError)) throw error;
    throw refused(
      path,
      base,
      error.code === 'not-a-regular-file'
        ? 'its NAR is not a single regular file'
        : `its NAR is malformed: ${error.message}`,
    );
  }
}

function refused(path: string, base: string, why: string): HttpError {
  return new HttpError('unprocessable-derivation', `the derivation ${path} from ${base} is refused: ${why}`, {
    details: { path, server: base },
  });
}
