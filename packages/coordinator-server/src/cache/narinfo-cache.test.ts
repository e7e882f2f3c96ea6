// The narinfo cache over a real SQLite datastore: one load for concurrent
// requests, a removal forgotten even while a load is in flight, old entries
// reloaded in the background (and dropped when the output is gone), the
// least recently used evicted first, texts kept when the metadata is the same.
import {
  deleteOutputMetadata,
  getOutputMetadataByHashPart,
  recordOutputMetadata,
  type OutputMetadata,
} from '@gbc/datastore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPart } from '../agent-api/test-support.js';
import {
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from '../hooks/testing/test-coordinator.js';
import { createNarInfoCache, type NarInfoCacheOptions } from './narinfo-cache.js';

let dir: string;
let tc: TestCoordinator;

beforeAll(async () => {
  dir = await makeTestDir('gbc-narinfo-cache-');
  tc = await openTestCoordinator(dir);
});
afterAll(async () => {
  await tc.close();
  await removeTestDir(dir);
});

async function newOutput(): Promise<{ path: string; hash: string }> {
  const hash = hashPart();
  const path = `/gnu/store/${hash}-cached`;
  const narHash = 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s';
  const file = { compression: 'none', fileSize: 120, fileHash: null, location: `none/${hash}` };
  await recordOutputMetadata(tc.ctx.datastore.db, [
    { storePath: path, narHash, narSize: 120, references: [], files: [file] },
  ]);
  return { path, hash };
}

/** A cache over the datastore that counts loads, can hold them at a gate, and renders the store path. */
function cacheOver(extra: Partial<NarInfoCacheOptions> = {}) {
  const counts = { loads: 0, renders: 0 };
  let gate: Promise<void> | null = null;
  const cache = createNarInfoCache({
    async load(h) {
      counts.loads += 1;
      const meta = await getOutputMetadataByHashPart(tc.ctx.datastore.db, h);
      await gate;
      return meta;
    },
    render(meta: OutputMetadata) {
      counts.renders += 1;
      return `StorePath: ${meta.storePath}\n`;
    },
    since: 0,
    ...extra,
  });
  const hold = () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    return () => {
      gate = null;
      open();
    };
  };
  return { cache, counts, hold };
}

describe('the narinfo cache', () => {
  it('loads once for concurrent requests and answers later ones without loading', async () => {
    const out = await newOutput();
    const { cache, counts } = cacheOver();
    expect(cache.peek(out.hash)).toBeUndefined();
    const held = await Promise.all([1, 2, 3].map(() => cache.lookup(out.hash)));
    expect(counts.loads).toBe(1);
    expect(held.every((h) => h?.meta.storePath === out.path)).toBe(true);
    expect(cache.peek(out.hash)?.narinfo('nix')?.body.toString()).toBe(`StorePath: ${out.path}\n`);
    expect(counts.loads).toBe(1);
    expect(await cache.lookup(hashPart())).toBeNull();
  });

  it('does not keep what a load read before a removal it overlapped', async () => {
    const out = await newOutput();
    const { cache, hold } = cacheOver();
    const release = hold();
    const inFlight = cache.lookup(out.hash); // reads the metadata, then waits at the gate
    await new Promise((r) => setTimeout(r, 50));
    await deleteOutputMetadata(tc.ctx.datastore.db, [out.path]);
    cache.forget([out.path]);
    release();
    expect((await inFlight)?.meta.storePath).toBe(out.path); // began before the removal
    expect(cache.peek(out.hash)).toBeUndefined();
    expect(await cache.lookup(out.hash)).toBeNull();
  });

  it('reloads an old entry in the background, answering from it meanwhile, and drops it once gone', async () => {
    const out = await newOutput();
    let clock = 1_000_000;
    const { cache, counts } = cacheOver({ now: () => clock, maxAgeMs: 1000 });
    const first = await cache.lookup(out.hash);
    const etag = first!.narinfo('nix')!.etag;
    clock += 2000;
    expect(cache.peek(out.hash)).toBe(first); // old: answered, reload started
    expect(counts.loads).toBe(2);
    await expect.poll(() => cache.peek(out.hash)).not.toBe(first);
    expect(counts.loads).toBe(2);
    const reloaded = cache.peek(out.hash);
    expect(reloaded!.narinfo('nix')!.etag).toBe(etag);
    expect(counts.renders).toBe(1); // same metadata: the text was kept, not rendered (signed) again
    await deleteOutputMetadata(tc.ctx.datastore.db, [out.path]);
    clock += 2000;
    expect(cache.peek(out.hash)).toBe(reloaded);
    await expect.poll(() => cache.peek(out.hash)).toBeUndefined();
  });

  it('evicts the least recently used beyond maxEntries', async () => {
    const [a, b, c] = [await newOutput(), await newOutput(), await newOutput()];
    const { cache } = cacheOver({ maxEntries: 2 });
    await cache.lookup(a.hash);
    await cache.lookup(b.hash);
    cache.peek(a.hash); // a is now the most recent
    await cache.lookup(c.hash);
    expect(cache.size).toBe(2);
    expect(cache.peek(b.hash)).toBeUndefined();
    expect(cache.peek(a.hash)).toBeDefined();
    expect(cache.peek(c.hash)).toBeDefined();
  });
});
