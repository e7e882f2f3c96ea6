// The outputs the binary cache answered lately, in memory, with their signed
// narinfo text kept ready: a repeated narinfo (or NAR) request costs a map
// look-up instead of a database query and a signature.
//
// Correctness: an entry is the output's metadata as loaded, and the texts
// rendered from it. Metadata of a held output only grows (a file in another
// compression may be added; the published NAR is never replaced, see
// storage/nar-key.ts); it disappears only through retention, which calls
// `forget` between removing the metadata and deleting the files, so no
// narinfo of a removed output is served from here once its files go. A load
// that started before a `forget` is not kept (a generation counter), and
// every entry is reloaded once it is `maxAgeMs` old (give or take a quarter,
// so that entries loaded together do not all reload together), which bounds
// what an added compression, or a removal by another process sharing the
// database whose notification was lost (they are told, leadership/cluster.ts),
// can leave stale. The reload happens in the background: the request that finds
// the entry old is still answered from it, so no request waits on the
// database for an output held (measured: reloading in the request path stalled
// a busy cache for hundreds of ms every `maxAgeMs`). Signing keys are loaded
// once per process, so a key change is a restart: a new cache. Misses are not
// kept: an output uploaded a moment ago is found at once.
import { createHash } from 'node:crypto';
import type { OutputMetadata } from '@gbc/datastore';
import type { CacheFlavour } from './cache-options.js';

/** A narinfo text ready to send, with its validators. */
export interface RenderedNarInfo {
  readonly body: Buffer;
  /** Strong ETag of `body`, quoted. */
  readonly etag: string;
  /** Milliseconds (whole seconds) since the epoch: see `NarInfoCacheOptions.since`. */
  readonly lastModified: number;
  /** `lastModified` as an HTTP date. */
  readonly lastModifiedText: string;
}

/** A held output: its metadata, and its narinfo per flavour (null when it has no servable file). */
export interface HeldOutput {
  readonly meta: OutputMetadata;
  narinfo(flavour: CacheFlavour): RenderedNarInfo | null;
}

/** Options of {@link createNarInfoCache}. */
export interface NarInfoCacheOptions {
  /** Reads an output's metadata by hash part (the datastore). */
  load(hashPart: string): Promise<OutputMetadata | undefined>;
  /** Writes its narinfo text in a flavour, or null when it has no servable file. */
  render(meta: OutputMetadata, flavour: CacheFlavour): string | null;
  /**
   * When the texts' signing keys were loaded (ms): Last-Modified is the later
   * of this and the output's record time, so a client's copy signed with an
   * older key is never confirmed by a 304.
   */
  readonly since: number;
  /** Outputs held at most; the least recently used go first. Default 20,000 (about 1.5 KiB each). */
  readonly maxEntries?: number;
  /** An entry is reloaded (in the background) once about this old. Default 60,000 ms. */
  readonly maxAgeMs?: number;
  /** The clock, ms. Default Date.now. */
  readonly now?: () => number;
}

/** The cache; see the file header. */
export interface NarInfoCache {
  /** The output with this hash part if held, without waiting (an old one is reloaded meanwhile). */
  peek(hashPart: string): HeldOutput | undefined;
  /** The output with this hash part, loading it when not held; null when the datastore has none. */
  lookup(hashPart: string): Promise<HeldOutput | null>;
  /** Drops the given outputs (full store paths) and any load in progress. */
  forget(storePaths: readonly string[]): void;
  /** How many outputs are held. */
  readonly size: number;
}

interface Entry extends HeldOutput {
  readonly reloadAt: number;
  readonly texts: Map<CacheFlavour, RenderedNarInfo | null>;
}

/** Creates an empty cache; see the file header. */
export function createNarInfoCache(options: NarInfoCacheOptions): NarInfoCache {
  const maxEntries = Math.max(1, options.maxEntries ?? 20_000);
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const now = options.now ?? Date.now;
  const since = Math.floor(options.since / 1000) * 1000;
  // Map order is recency: a hit moves its entry to the end, eviction takes the first.
  const entries = new Map<string, Entry>();
  const loading = new Map<string, Promise<HeldOutput | null>>();
  let generation = 0;

  // A reload that finds the same metadata keeps the texts: no signing again.
  const makeEntry = (meta: OutputMetadata, previous: Entry | undefined): Entry => {
    const texts =
      previous !== undefined && JSON.stringify(previous.meta) === JSON.stringify(meta)
        ? previous.texts
        : new Map<CacheFlavour, RenderedNarInfo | null>();
    const lastModified = Math.max(since, Math.floor(meta.createdAt / 1000) * 1000);
    return {
      meta,
      texts,
      reloadAt: now() + maxAgeMs * (0.75 + Math.random() / 2),
      narinfo(flavour) {
        let rendered = texts.get(flavour);
        if (rendered === undefined) {
          const text = options.render(meta, flavour);
          rendered = text === null ? null : withValidators(text, lastModified);
          texts.set(flavour, rendered);
        }
        return rendered;
      },
    };
  };

  const keep = (hashPart: string, entry: Entry): void => {
    entries.delete(hashPart);
    entries.set(hashPart, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  const load = async (hashPart: string): Promise<HeldOutput | null> => {
    const started = generation;
    try {
      const meta = await options.load(hashPart);
      const entry = meta === undefined ? null : makeEntry(meta, entries.get(hashPart));
      if (started === generation) {
        if (entry === null) entries.delete(hashPart);
        else keep(hashPart, entry);
      }
      return entry;
    } finally {
      if (started === generation) loading.delete(hashPart);
    }
  };
  const loadOnce = (hashPart: string): Promise<HeldOutput | null> => {
    let pending = loading.get(hashPart);
    if (pending === undefined) {
      pending = load(hashPart);
      loading.set(hashPart, pending);
    }
    return pending;
  };
  const peek = (hashPart: string): Entry | undefined => {
    const entry = entries.get(hashPart);
    if (entry === undefined) return undefined;
    // A failed reload leaves the entry as it was; the next request tries again.
    if (now() >= entry.reloadAt) loadOnce(hashPart).catch(() => undefined);
    // Recency only matters near eviction; moving every hit costs a delete and an insert.
    else if (entries.size >= maxEntries) keep(hashPart, entry);
    return entry;
  };

  return {
    peek,
    lookup(hashPart) {
      const held = peek(hashPart);
      return held === undefined ? loadOnce(hashPart) : Promise.resolve(held);
    },
    forget(storePaths) {
      generation += 1;
      loading.clear();
      for (const path of storePaths) {
        const base = path.slice(path.lastIndexOf('/') + 1);
        const entry = entries.get(base.slice(0, 32));
        if (entry?.meta.storePath === path) entries.delete(base.slice(0, 32));
      }
    },
    get size() {
      return entries.size;
    },
  };
}

function withValidators(text: string, lastModified: number): RenderedNarInfo {
  const body = Buffer.from(text, 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, etag, lastModified, lastModifiedText: new Date(lastModified).toUTCString() };
}
