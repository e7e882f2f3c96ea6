// Copies every NAR and sealed log of one Storage into another (a data
// directory into a bucket: `gbc storage migrate`). Each object is hashed
// while it is copied, then read back from the destination and hashed again:
// only an object whose bytes there match is recorded in the journal, a local
// file of `area key size sha256` lines. A rerun skips what the journal
// records, checks (reads back and compares) what it finds already there
// without a record, and copies the rest: an interrupted migration resumes,
// and nothing counts as migrated that was not verified where it now lives.
import { createHash } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StorageError } from '../errors.js';
import type { Storage, StorageArea, StoredObject } from './storage.js';

/** Options of {@link migrateStorage}. */
export interface MigrateOptions {
  readonly from: Storage;
  readonly to: Storage;
  /** The journal file of verified objects (created if absent). */
  readonly journal: string;
  /** Objects copied at once. Default 2. */
  readonly concurrency?: number;
  /** Called after each object. */
  readonly onProgress?: (progress: MigrateProgress) => void;
  /** Stops between objects (what is under way finishes). */
  readonly signal?: AbortSignal;
}

/** Where a migration stands. */
export interface MigrateProgress {
  readonly totalObjects: number;
  readonly totalBytes: number;
  readonly doneObjects: number;
  readonly doneBytes: number;
  /** Copied and verified by this run. */
  readonly copied: number;
  /** Recorded in the journal by an earlier run. */
  readonly skipped: number;
  /** Found in the destination without a record, read back and found equal. */
  readonly verifiedExisting: number;
}

/** Copies `from` into `to`; see the file header. Throws on the first object that cannot be verified. */
export async function migrateStorage(options: MigrateOptions): Promise<MigrateProgress> {
  const done = await readJournal(options.journal);
  const objects: StoredObject[] = [];
  for (const area of ['nar', 'log'] as const) for await (const o of options.from.list(area)) objects.push(o);
  const progress = {
    totalObjects: objects.length,
    totalBytes: objects.reduce((n, o) => n + o.size, 0),
    doneObjects: 0,
    doneBytes: 0,
    copied: 0,
    skipped: 0,
    verifiedExisting: 0,
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < objects.length && options.signal?.aborted !== true) {
      const object = objects[next++]!;
      const outcome = await migrateOne(options, object, done.get(entryKey(object.area, object.key)));
      progress[outcome]++;
      progress.doneObjects++;
      progress.doneBytes += object.size;
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  return { ...progress };
}

type Outcome = 'copied' | 'skipped' | 'verifiedExisting';

async function migrateOne(
  options: MigrateOptions,
  object: StoredObject,
  recorded?: Recorded,
): Promise<Outcome> {
  const { area, key, size } = object;
  if (recorded !== undefined && recorded.size === size) return 'skipped';
  const there = await options.to.stat(area, key);
  if (there !== null && there.size === size) {
    const [source, copy] = await Promise.all([
      hashOf(options.from, area, key),
      hashOf(options.to, area, key),
    ]);
    if (source === copy) {
      await record(options.journal, area, key, size, source);
      return 'verifiedExisting';
    }
  }
  const stream = await options.from.get(area, key);
  if (stream === null)
    throw new StorageError('not-found', `${area} ${key} vanished from the source during the migration`);
  const hash = createHash('sha256');
  await options.to.put(area, key, tapHash(stream, hash));
  const sent = hash.digest('hex');
  const stored = await hashOf(options.to, area, key);
  if (stored !== sent) {
    await options.to.delete(area, key);
    throw new StorageError(
      'hash-mismatch',
      `${area} ${key} reads back differently from the destination; it was removed there`,
      {
        expected: `sha256 ${sent}`,
        found: `sha256 ${stored}`,
      },
    );
  }
  await record(options.journal, area, key, size, sent);
  return 'copied';
}

async function* tapHash(stream: Readable, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    hash.update(chunk as Uint8Array);
    yield chunk as Uint8Array;
  }
}

async function hashOf(storage: Storage, area: StorageArea, key: string): Promise<string> {
  const stream = await storage.get(area, key);
  if (stream === null) return 'absent';
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

interface Recorded {
  readonly size: number;
  readonly sha256: string;
}

const entryKey = (area: string, key: string): string => `${area} ${key}`;

async function readJournal(path: string): Promise<Map<string, Recorded>> {
  const entries = new Map<string, Recorded>();
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  // A crash may have cut the last line: the next record starts on a line of its own.
  if (text !== '' && !text.endsWith('\n')) await appendFile(path, '\n');
  for (const line of text.split('\n')) {
    // A line cut short by a crash has fewer fields or a short hash: ignored, the object is checked again.
    const [area, key, size, sha256] = line.split(' ');
    if (area === undefined || key === undefined || sha256?.length !== 64) continue;
    entries.set(entryKey(area, key), { size: Number(size), sha256 });
  }
  return entries;
}

async function record(
  journal: string,
  area: StorageArea,
  key: string,
  size: number,
  sha256: string,
): Promise<void> {
  await appendFile(journal, `${area} ${key} ${size} ${sha256}\n`);
}
