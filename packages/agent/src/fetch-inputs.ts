// Makes store paths valid in the agent's daemon: each missing path (and,
// first, what it refers to) is fetched from the first source that has it,
// decompressed into a spool file, checked against the narinfo's NarHash and
// NarSize, and only then imported (AddToStoreNar / import-paths).
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DaemonError, encodeBase16, formatNarHash, NarHasher } from '@gbc/store';
import type { BuildDaemon, NarInfo } from '@gbc/store';
import { createDecompressor } from './compression.js';
import { AgentError } from './errors.js';
import type { NarSource } from './nar-source.js';

/** What `ensurePaths` needs. */
export interface FetchContext {
  readonly daemon: BuildDaemon;
  readonly spoolDir: string;
  /** Called for each path imported, with the source it came from. */
  readonly onImported?: (path: string, source: string) => void;
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
 * list means all are valid now.
 */
export async function ensurePaths(ctx: FetchContext, paths: readonly string[], sources: (path: string) => readonly NarSource[], known?: KnownValidity): Promise<string[]> {
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

async function ensureOne(ctx: FetchContext, path: string, sources: readonly NarSource[], ensure: (p: string) => Promise<boolean>, missing: Set<string>): Promise<boolean> {
  if (await ctx.daemon.isValidPath(path)) return true;
  // A source that fails (unreachable, bad NAR) is passed over for the next one.
  for (const source of sources) {
    let info: NarInfo | null;
    try {
      info = await source.narinfo(path);
    } catch {
      continue;
    }
    if (info === null) continue;
    const storeDir = path.slice(0, path.lastIndexOf('/'));
    const refs = info.references.map((r) => `${storeDir}/${r}`);
    const others = refs.filter((r) => r !== path);
    const got = await Promise.all(others.map(ensure));
    if (got.some((ok) => !ok)) return false;
    try {
      await importNar(ctx, source, info, refs);
      ctx.onImported?.(path, source.name);
      return true;
    } catch (error) {
      // The input is there, but this machine's daemon will not take it: not a
      // missing input (the coordinator would hand the build out again at once),
      // a failure of this agent, with the daemon's words.
      if (error instanceof DaemonError) {
        throw new AgentError('import-refused', `the daemon refused to import ${path} (from ${source.name}): ${error.daemonMessage}`, { cause: error, paths: [path] });
      }
    }
  }
  missing.add(path);
  return false;
}

/** Downloads, decompresses, hash-checks and imports one NAR. */
async function importNar(ctx: FetchContext, source: NarSource, info: NarInfo, references: readonly string[]): Promise<void> {
  const file = info.files[0];
  if (file === undefined) throw new AgentError('missing-inputs', `the narinfo of ${info.storePath} offers no NAR`);
  await mkdir(ctx.spoolDir, { recursive: true });
  const spool = join(ctx.spoolDir, `fetch-${randomBytes(8).toString('hex')}.nar`);
  try {
    const hasher = new NarHasher();
    const body = await source.nar(file.url);
    await pipeline(Readable.from(body), createDecompressor(file.compression), async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        hasher.update(chunk);
        yield chunk;
      }
    }, createWriteStream(spool));
    const { narHash, narSize } = hasher.digest();
    const got = formatNarHash(narHash);
    if (got !== info.narHash || narSize !== info.narSize) {
      throw new AgentError('hash-mismatch', `NAR of ${info.storePath} from ${source.name} is ${got} (${narSize} bytes), its narinfo says ${info.narHash} (${info.narSize} bytes): not imported`);
    }
    const deriver = info.deriver === undefined ? null : `${info.storePath.slice(0, info.storePath.lastIndexOf('/'))}/${info.deriver}`;
    await ctx.daemon.addNar(
      { path: info.storePath, narHash: encodeBase16(narHash), narSize, references, deriver, sigs: info.sigs, ca: info.ca ?? null },
      createReadStream(spool),
    );
  } finally {
    await rm(spool, { force: true });
  }
}
