import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { ByteReader } from '../wire/index.js';
import { copyNar } from './nar-copy.js';
import { NarHasher, formatNarHash, hashNar, tapNarHash } from './nar-hash.js';
import { listNar } from './nar-list.js';
import { restoreNar } from './nar-restore.js';
import { dumpNar } from './nar-writer.js';
import { collect, nixDump, nixEnv, tempDir } from './nar-test-support.js';

const tmp = tempDir();
afterAll(() => tmp.remove());
let n = 0;

type Node =
  | { kind: 'file'; contents: Uint8Array; executable: boolean }
  | { kind: 'link'; target: string }
  | { kind: 'dir'; entries: [Uint8Array, Node][] };

/** Entry names as raw bytes: any byte but "/" and NUL, never "." or "..". */
const nameArb = fc
  .uint8Array({ minLength: 1, maxLength: 12 })
  .map((b) => b.map((x) => (x === 0 || x === 0x2f ? 0x61 : x)))
  .filter((b) => !(b.length <= 2 && b.every((x) => x === 0x2e)));

const { node: nodeArb } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      kind: fc.constant('file' as const),
      contents: fc.uint8Array({ maxLength: 300 }),
      executable: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('link' as const),
      target: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !s.includes('\0')),
    }),
    fc.record({
      kind: fc.constant('dir' as const),
      entries: fc.uniqueArray(fc.tuple(nameArb, tie('node')), {
        maxLength: 5,
        selector: ([name]) => Buffer.from(name).toString('hex'),
      }),
    }),
  ),
}));

function build(path: Buffer, node: Node): void {
  if (node.kind === 'file') {
    writeFileSync(path, node.contents);
    chmodSync(path, node.executable ? 0o755 : 0o644);
  } else if (node.kind === 'link') {
    symlinkSync(node.target, path);
  } else {
    mkdirSync(path);
    for (const [name, child] of node.entries) build(Buffer.concat([path, Buffer.from('/'), name]), child);
  }
}

describe('NAR properties', () => {
  it('round-trips random trees: dump equals nix, restore then dump is identical', async () => {
    await fc.assert(
      fc.asyncProperty(nodeArb, async (tree) => {
        const root = Buffer.from(join(tmp.path, `tree-${n++}`));
        build(root, tree);
        const nar = await collect(dumpNar(root));
        expect(nar.equals(nixDump(root))).toBe(true);
        const back = join(tmp.path, `back-${n++}`);
        await restoreNar([nar], back);
        expect((await collect(dumpNar(back))).equals(nar)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('answers mutated NARs with a StoreError or a valid listing, never a crash or hang', async () => {
    const root = join(tmp.path, 'mutate');
    mkdirSync(root);
    writeFileSync(join(root, 'a'), 'alpha');
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd', 'x'), '');
    symlinkSync('a', join(root, 'l'));
    const nar = nixDump(root);
    const sandbox = join(tmp.path, 'mutated-restores');
    mkdirSync(sandbox);
    const targets = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(nar.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.tuple(fc.nat(nar.length), fc.nat(nar.length)), { nil: undefined }),
        async (edits, splice) => {
          let bytes = Buffer.from(nar);
          for (const [at, value] of edits) bytes[at] = value;
          if (splice !== undefined)
            bytes = Buffer.concat([
              bytes.subarray(0, Math.min(...splice)),
              bytes.subarray(Math.max(...splice)),
            ]);
          const result = await listNar([bytes]).then(
            (entries) => entries.length,
            (error: unknown) => error,
          );
          if (typeof result !== 'number') expect(result).toBeInstanceOf(StoreError);
          const copied = await collect(copyNar([bytes], { wholeInput: true })).catch(
            (error: unknown) => error,
          );
          if (copied instanceof Buffer) expect(copied.equals(bytes)).toBe(true);
          else expect(copied).toBeInstanceOf(StoreError);
          const name = `t${targets.size}`;
          targets.add(name);
          const restored = await restoreNar([bytes], join(sandbox, name)).then(
            () => 'ok',
            (error: unknown) => error,
          );
          if (restored !== 'ok') expect(restored).toBeInstanceOf(StoreError);
          expect(restored === 'ok').toBe(typeof result === 'number');
        },
      ),
      { numRuns: 1000 },
    );
    // Whatever the mutation, nothing was created beside the targets.
    expect(readdirSync(sandbox).every((entry) => targets.has(entry))).toBe(true);
  });

  it('streams a 200 MB file through dump, hash and parse without holding it', async () => {
    const dir = join(tmp.path, 'huge');
    mkdirSync(dir);
    const fd = openSync(join(dir, 'zeros'), 'w');
    ftruncateSync(fd, 200 * 1024 * 1024);
    closeSync(fd);
    writeFileSync(join(dir, 'small'), 'x');
    /** Peak of heap plus array buffers above the starting point while the NAR streams through dump, hash and parse. */
    const measure = async (reuseBuffers: boolean) => {
      let peak = 0;
      const sample = () => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.arrayBuffers);
      };
      sample();
      const base = peak;
      const hasher = new NarHasher();
      async function* sampled(source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          sample();
          yield chunk;
        }
      }
      const entries = await listNar(
        new ByteReader(sampled(tapNarHash(dumpNar(dir, { reuseBuffers }), hasher))),
      );
      expect(entries.map((e) => e.size)).toEqual([undefined, 1, 200 * 1024 * 1024]);
      expect(hasher.digest().narSize).toBeGreaterThan(200 * 1024 * 1024);
      return { growth: peak - base, digest: hasher.digest() };
    };
    /** The same peak for a dump whose chunks hashNar hands back once hashed. */
    const measureReleased = async () => {
      const dump = dumpNar(dir);
      const release = dump.release;
      const base = process.memoryUsage();
      let peak = 0;
      let releasedBytes = 0;
      dump.release = (chunk) => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.arrayBuffers);
        releasedBytes += chunk.length;
        release(chunk);
      };
      const digest = await hashNar(dump);
      // Every chunk went back to the dump.
      expect(releasedBytes).toBe(digest.narSize);
      return { growth: peak - (base.heapUsed + base.arrayBuffers), digest };
    };
    const recycled = await measure(true);
    const fresh = await measure(false);
    const released = await measureReleased();
    expect(fresh.digest).toEqual(recycled.digest);
    expect(released.digest).toEqual(recycled.digest);
    // Recycled or released buffers: nothing but a few chunks. Kept ones: whatever the GC lets
    // pile up (about 64 MB of external memory), far from the 200 MB a whole-file read would take.
    expect(recycled.growth).toBeLessThan(24 * 1024 * 1024);
    expect(released.growth).toBeLessThan(24 * 1024 * 1024);
    expect(fresh.growth).toBeLessThan(150 * 1024 * 1024);
  });

  it('gives the NarHash and NarSize that nix-store -q reports for a store path', async () => {
    const source = join(tmp.path, 'gbc-nar-hash-test');
    writeFileSync(source, 'hello\n');
    const storePath = execFileSync('nix-store', ['--add', source], {
      env: nixEnv(),
      encoding: 'utf8',
    }).trim();
    const { narHash, narSize } = await hashNar(dumpNar(storePath));
    const query = (flag: string) =>
      execFileSync('nix-store', ['-q', flag, storePath], { env: nixEnv(), encoding: 'utf8' }).trim();
    expect(formatNarHash(narHash)).toBe(query('--hash'));
    expect(String(narSize)).toBe(query('--size'));
  });
});
