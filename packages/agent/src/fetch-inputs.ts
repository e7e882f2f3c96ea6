// Makes store paths valid in the agent's daemon: each missing path (and,
// first, what it refers to) is fetched from the first source that has it,
// decompressed into a spool file, checked against the narinfo's NarHash and
// NarSize, and only then imported (AddToStoreNar / import-paths, signed with
// the agent's Guix key). An unreachable source (coordinator restarting,
// network down, 5xx) is retried with the agent's backoff, never taken for a
// path it lacks: only a clear "not there" (404) makes a path missing.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DaemonError, encodeBase16, formatNarHash, NarHasher } from '@gbc/store';
import type { BuildDaemon, NarInfo } from '@gbc/store';
import { createDecompressor } from './compression.js';
import { AgentError } from './errors.js';
import type { GuixSigning } from './guix-signing.js';
import { isSignatureRefusal, signatureRefusalMessage } from './guix-signing.js';
import type { NarSource } from './nar-source.js';
import { isTransient } from './retry.js';

/** What `ensurePaths` needs. */
export interface FetchContext {
  readonly daemon: BuildDaemon;
  readonly spoolDir: string;
  /** Called for each path imported, with the source it came from. */
  readonly onImported?: (path: string, source: string) => void;
  /**
   * Runs each request to a source (narinfo; NAR download and import) and
   * retries it while it fails transiently (the agent's backoff). Default: one
   * try, a transient failure thrown as it is.
   */
  readonly call?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The agent's Guix signing key (guix-daemon refuses unsigned imports; nix-daemon ignores it). */
  readonly signing?: GuixSigning;
}

/** What the caller asked the daemon already: the paths `checked`, of which `valid` were valid. */
export interface KnownValidity {
  readonly checked: ReadonlySet<string>;
  readonly valid: ReadonlySet<string>;
}

/**
 * Makes every path in `paths` valid, trying `sources(path)` in order for each
 * missing one; the daemon is asked which are valid (but for those in `known`).
 * Returns the paths (inputs or their references) found nowhere; an empty
 * list means all are valid now. A source that stays unreachable is retried
 * (see `call`); a NAR that does not match its narinfo passes the source over.
 * Throws AgentError `import-refused` when the daemon will not take a NAR
 * (`signature` set when it refused the signature: the agent's key).
 */
export async function ensurePaths(
  ctx: FetchContext,
  paths: readonly string[],
  sources: (path: string) => readonly NarSource[],
  known?: KnownValidity,
): Promise<string[]> {
  const missing = new Set<string>();
  const done = new Map<string, Promise<boolean>>();
  const ensure = (path: string): Promise<boolean> => {
    let p = done.get(path);
    if (p === undefined) {
      p = ensureOne(ctx, path, sources(path), ensure, missing);
      done.set(path, p);
    }
    return p;
  };
  const unchecked = known === undefined ? paths : paths.filter((p) => !known.checked.has(p));
  const valid = unchecked.length === 0 ? [] : await ctx.daemon.queryValidPaths(unchecked);
  for (const v of [...valid, ...(known?.valid ?? [])]) done.set(v, Promise.resolve(true));
  await Promise.all(paths.map(ensure));
  return [...missing].sort();
}

async function ensureOne(
  ctx: FetchContext,
  path: string,
  sources: readonly NarSource[],
  ensure: (p: string) => Promise<boolean>,
  missing: Set<string>,
): Promise<boolean> {
  if (await ctx.daemon.isValidPath(path)) return true;
  const call = ctx.call ?? ((fn) => fn());
  // A source that has no usable copy (404, a malformed narinfo, a NAR that is
  // not what its narinfo says) is passed over for the next one.
  for (const source of sources) {
    const answer = await call(() => unlessTransient(() => source.narinfo(path)));
    if (answer.failed || answer.value === null) continue;
    const info = answer.value;
    const storeDir = path.slice(0, path.lastIndexOf('/'));
    const refs = info.references.map((r) => `${storeDir}/${r}`);
    const others = refs.filter((r) => r !== path);
    const got = await Promise.all(others.map(ensure));
    if (got.some((ok) => !ok)) return false;
    const imported = await call(() => unlessTransient(() => importNar(ctx, source, info, refs)));
    if (!imported.failed) {
      ctx.onImported?.(path, source.name);
      return true;
    }
    const error = imported.error;
    // The input is there, but this machine's daemon will not take it: not a
    // missing input (the coordinator would hand the build out again at once),
    // a failure of this agent, with the daemon's words.
    if (isSignatureRefusal(error)) {
      throw new AgentError('import-refused', signatureRefusalMessage(path, error, ctx.signing), {
        cause: error,
        paths: [path],
        signature: true,
      });
    }
    if (error instanceof DaemonError) {
      throw new AgentError(
        'import-refused',
        `the daemon refused to import ${path} (from ${source.name}): ${error.daemonMessage}`,
        { cause: error, paths: [path] },
      );
    }
  }
  missing.add(path);
  return false;
}

/** What a request gave: its value, or the error that is not worth retrying. */
type Outcome<T> =
  { readonly failed: false; readonly value: T } | { readonly failed: true; readonly error: unknown };

/** Runs `fn`: a transient failure is thrown (for `call` to retry), any other is returned. */
async function unlessTransient<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { failed: false, value: await fn() };
  } catch (error) {
    if (isTransient(error)) throw error;
    return { failed: true, error };
  }
}

/** Downloads, decompresses, hash-checks and imports one NAR. */
async function importNar(
  ctx: FetchContext,
  source: NarSource,
  info: NarInfo,
  references: readonly string[],
): Promise<void> {
  const file = info.files[0];
  if (file === undefined)
    throw new AgentError('missing-inputs', `the narinfo of ${info.storePath} offers no NAR`);
  await mkdir(ctx.spoolDir, { recursive: true });
  const spool = join(ctx.spoolDir, `fetch-${randomBytes(8).toString('hex')}.nar`);
  try {
    const hasher = new NarHasher();
    const body = await source.nar(file.url);
    // A cache that lies about sizes (a decompression bomb: a few bytes that expand to
    // gigabytes) is stopped as soon as it passes what its narinfo declared.
    const tooLong = (what: string, limit: number) =>
      new AgentError(
        'hash-mismatch',
        `the ${what} of ${info.storePath} from ${source.name} is longer than the ${limit} bytes its narinfo declares: not imported`,
      );
    await pipeline(
      Readable.from(body),
      capBytes(file.fileSize ?? Number.MAX_SAFE_INTEGER, () => tooLong('compressed NAR', file.fileSize!)),
      createDecompressor(file.compression),
      capBytes(info.narSize, () => tooLong('NAR', info.narSize)),
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          hasher.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(spool),
    );
    const { narHash, narSize } = hasher.digest();
    const got = formatNarHash(narHash);
    if (got !== info.narHash || narSize !== info.narSize) {
      throw new AgentError(
        'hash-mismatch',
        `NAR of ${info.storePath} from ${source.name} is ${got} (${narSize} bytes), its narinfo says ${info.narHash} (${info.narSize} bytes): not imported`,
      );
    }
    const deriver =
      info.deriver === undefined
        ? null
        : `${info.storePath.slice(0, info.storePath.lastIndexOf('/'))}/${info.deriver}`;
    await ctx.daemon.addNar(
      {
        path: info.storePath,
        narHash: encodeBase16(narHash),
        narSize,
        references,
        deriver,
        sigs: info.sigs,
        ca: info.ca ?? null,
        guixSigningKey: ctx.signing?.key,
      },
      createReadStream(spool),
    );
  } finally {
    await rm(spool, { force: true });
  }
}

/** Passes at most `limit` bytes; past it, fails with `error()` (nothing more is read). */
function capBytes(limit: number, error: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(error());
      else callback(null, chunk);
    },
  });
}
