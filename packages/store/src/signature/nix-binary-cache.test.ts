// The real Nix as the oracle: narinfos written by `nix copy` parse, write back
// identical and verify; our signatures equal Nix's; a binary cache written and
// signed by our code is accepted by Nix with require-sigs, a tampered one is not.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHash, makeHash, sha256 } from '../hash/index.js';
import { parseNarInfo, parseNixCacheInfo, writeNarInfo, writeNixCacheInfo } from '../narinfo/index.js';
import type { NarInfo } from '../narinfo/index.js';
import { buildItems, nix, nixDump, nixFails, tempDir } from './nix-cache-test-support.js';
import type { BuiltItems } from './nix-cache-test-support.js';
import {
  formatPublicKey,
  formatSecretKey,
  generateSecretKey,
  parsePublicKey,
  parseSecretKey,
  signNarInfo,
  verifyNarInfo,
} from './index.js';
import type { SecretKey } from './index.js';

const STORE = '/nix/store';
const tmp = tempDir('gbc-sig-');
let items: BuiltItems;
// Store items this file added, top first (it refers to dep); empty if building them failed.
const added: string[] = [];
let nixSecret: string;
let nixPublic: string;
const caches: Record<string, string> = {};

beforeAll(() => {
  items = buildItems(tmp.path);
  added.push(items.top, items.dep);
  nix('nix-store', [
    '--generate-binary-cache-key',
    'nix-made-key-1',
    join(tmp.path, 'sec'),
    join(tmp.path, 'pub'),
  ]);
  nixSecret = readFileSync(join(tmp.path, 'sec'), 'utf8');
  nixPublic = readFileSync(join(tmp.path, 'pub'), 'utf8');
  for (const [name, query] of [
    ['none', '&compression=none'],
    ['xz', '&compression=xz'],
    ['default', ''],
  ] as const) {
    caches[name] = join(tmp.path, `nix-${name}`);
    nix('nix', [
      'copy',
      '--to',
      `file://${caches[name]}?secret-key=${join(tmp.path, 'sec')}${query}`,
      items.top,
    ]);
  }
});

afterAll(() => {
  tmp.remove();
  // Best effort: leave no test items behind in the shared store.
  for (const path of added) nixFails('nix-store', ['--delete', path]);
});

/** Our own narinfo for a store item, from the local store's facts and `nix-store --dump`. */
function ourNarInfo(path: string, nar: Buffer): NarInfo {
  const narHash = formatHash(makeHash('sha256', sha256(nar)));
  const refs = nix('nix-store', ['-q', '--references', path])
    .split('\n')
    .filter((l) => l !== '');
  return {
    flavour: 'nix',
    storePath: path,
    files: [
      { url: `nar/${narHash.slice(7)}.nar`, compression: 'none', fileHash: narHash, fileSize: nar.length },
    ],
    narHash,
    narSize: nar.length,
    references: refs.map((r) => basename(r)).sort(),
    deriver: basename(nix('nix-store', ['-q', '--deriver', path])),
    sigs: [],
  };
}

/** Writes a binary cache directory holding `path` with the narinfo `info`. */
function writeCache(dir: string, info: NarInfo, nar: Buffer): void {
  mkdirSync(join(dir, 'nar'), { recursive: true });
  writeFileSync(
    join(dir, 'nix-cache-info'),
    writeNixCacheInfo({ storeDir: STORE, wantMassQuery: true, priority: 30 }),
  );
  writeFileSync(join(dir, info.files[0]!.url), nar);
  writeFileSync(join(dir, `${basename(info.storePath).slice(0, 32)}.narinfo`), writeNarInfo(info));
}

describe('narinfos written by nix copy', () => {
  it('parse, write back byte for byte, and verify with the nix-made public key', () => {
    const key = parseSecretKey(nixSecret);
    let count = 0;
    for (const dir of Object.values(caches)) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.narinfo'))) {
        const text = readFileSync(join(dir, file), 'utf8');
        const info = parseNarInfo(text, { storeDir: STORE });
        expect(writeNarInfo(info)).toBe(text);
        expect(info.sigs).toHaveLength(1);
        expect(verifyNarInfo(info, [parsePublicKey(nixPublic)]).validKeys).toEqual(['nix-made-key-1']);
        // Deterministic Ed25519: our signature of the same fingerprint is Nix's.
        expect(signNarInfo({ ...info, sigs: [] }, key).sigs).toEqual(info.sigs);
        count++;
      }
      const cacheInfo = readFileSync(join(dir, 'nix-cache-info'), 'utf8');
      expect(writeNixCacheInfo(parseNixCacheInfo(cacheInfo))).toBe(cacheInfo);
    }
    expect(count).toBe(6); // top and dep in three caches
  });

  it('hold the compression asked for, with xz the default', () => {
    const comp = (dir: string): string[] =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.narinfo'))
        .map((f) => parseNarInfo(readFileSync(join(dir, f)), { storeDir: STORE }).files[0]!.compression);
    expect(comp(caches.none!)).toEqual(['none', 'none']);
    expect(comp(caches.xz!)).toEqual(['xz', 'xz']);
    expect(comp(caches.default!)).toEqual(['xz', 'xz']);
  });

  it('equal the narinfo we compute and sign for the same item with the same key', () => {
    const nar = nixDump(items.top);
    const ours = writeNarInfo(signNarInfo(ourNarInfo(items.top, nar), parseSecretKey(nixSecret)));
    const theirs = readFileSync(join(caches.none!, `${basename(items.top).slice(0, 32)}.narinfo`), 'utf8');
    expect(ours).toBe(theirs);
  });

  it('refuse to verify with another key, or after a field in the fingerprint changed', () => {
    const text = readFileSync(join(caches.xz!, `${basename(items.top).slice(0, 32)}.narinfo`), 'utf8');
    const info = parseNarInfo(text, { storeDir: STORE });
    const other = generateSecretKey('nix-made-key-1');
    expect(verifyNarInfo(info, [parsePublicKey(formatPublicKey(other))]).validKeys).toEqual([]);
    const trusted = [parsePublicKey(nixPublic)];
    expect(verifyNarInfo({ ...info, narSize: info.narSize + 1 }, trusted).validKeys).toEqual([]);
    expect(verifyNarInfo({ ...info, references: [] }, trusted).validKeys).toEqual([]);
    // The deriver and the file are not part of the fingerprint.
    expect(
      verifyNarInfo({ ...info, files: [{ url: 'nar/x', compression: 'none' }] }, trusted).validKeys,
    ).toEqual(['nix-made-key-1']);
  });
});

describe('a binary cache signed by our code', () => {
  let ours: SecretKey;
  let nar: Buffer;
  let info: NarInfo;
  const subst = (dir: string, key: string): string[] => [
    '-r',
    items.top,
    '--option',
    'substituters',
    `file://${dir}`,
    '--option',
    'trusted-public-keys',
    key,
    '--option',
    'require-sigs',
    'true',
  ];

  beforeAll(() => {
    ours = generateSecretKey('gbc-test-1');
    // Nix's own tool reads the key files our code writes.
    writeFileSync(join(tmp.path, 'ours.sec'), formatSecretKey(ours));
    nar = nixDump(items.top);
    info = signNarInfo(ourNarInfo(items.top, nar), ours);
    writeCache(join(tmp.path, 'ours'), info, nar);
    // Tampered: signed by a key of the same name that is not the trusted one.
    writeCache(
      join(tmp.path, 'impostor'),
      signNarInfo(ourNarInfo(items.top, nar), generateSecretKey('gbc-test-1')),
      nar,
    );
    // Tampered: a fingerprinted field changed after signing.
    writeCache(join(tmp.path, 'altered'), { ...info, references: [] }, nar);
  });

  it('passes nix store verify with our public key trusted, and fails with another', () => {
    const args = ['store', 'verify', '--store', `file://${join(tmp.path, 'ours')}`, items.top];
    expect(nix('nix', [...args, '--trusted-public-keys', formatPublicKey(ours)])).toBe('');
    const sigs = nix('nix', [
      'path-info',
      '--store',
      `file://${join(tmp.path, 'ours')}`,
      '--sigs',
      items.top,
    ]);
    expect(sigs).toBe(`${items.top}\t${info.sigs[0]}`);
    const other = nixFails('nix', [...args, '--trusted-public-keys', nixPublic]);
    expect(other.status).not.toBe(0);
    expect(other.stderr).toContain('untrusted');
  });

  it('is substituted from by Nix with require-sigs, and tampered caches are refused', () => {
    expect(nix('nix-store', ['-q', '--referrers', items.top])).toBe('');
    nix('nix-store', ['--delete', items.top]);
    expect(nixFails('nix-store', ['--check-validity', items.top]).status).not.toBe(0);
    for (const bad of ['impostor', 'altered']) {
      const r = nixFails('nix-store', subst(join(tmp.path, bad), formatPublicKey(ours)));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('is not signed by any of the keys');
    }
    expect(nixFails('nix-store', ['--check-validity', items.top]).status).not.toBe(0);
    expect(nix('nix-store', subst(join(tmp.path, 'ours'), formatPublicKey(ours)))).toBe(items.top);
    expect(nixDump(items.top).equals(nar)).toBe(true);
  });

  it('writes a secret key file that nix store sign accepts, giving our signature', () => {
    const dir = join(tmp.path, 'resign');
    writeCache(dir, { ...info, sigs: [] }, nar);
    nix('nix', [
      'store',
      'sign',
      '--store',
      `file://${dir}`,
      '--key-file',
      join(tmp.path, 'ours.sec'),
      items.top,
    ]);
    const signed = parseNarInfo(readFileSync(join(dir, `${basename(items.top).slice(0, 32)}.narinfo`)), {
      storeDir: STORE,
    });
    expect(signed.sigs).toEqual(info.sigs);
  });
});
