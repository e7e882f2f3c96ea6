// Derivations made by nix-instantiate during the run, under /nix/store and
// /gnu/store: byte-exact round trips, .drv paths, output paths, and builds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToByteString, utf8ToByteString } from './byte-string.js';
import { verifyDerivation } from './check.js';
import { hashDerivationClosure, loadDerivationClosure, type DerivationClosure } from './closure.js';
import { derivationKind } from './derivation-kind.js';
import { computeDerivationPath, derivationNameFromPath } from './derivation-path.js';
import {
  ATTRS,
  WEIRD_ENV,
  instantiate,
  readDrv,
  realise,
  writeExpression,
  type OracleStore,
} from './nix-oracle.js';
import { computeOutputPaths } from './output-paths.js';
import { parseDerivation } from './parse.js';
import { writeDerivation } from './write.js';

const tmp = mkdtempSync(join(tmpdir(), 'gbc-drv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = writeExpression(tmp);
const gnuRoot = join(tmp, 'gnuroot');
const stores: OracleStore[] = [
  { storeDir: '/nix/store', root: '/' },
  { storeDir: '/gnu/store', uri: `local?store=/gnu/store&root=${gnuRoot}`, root: gnuRoot },
];
const drvsByStore = new Map<string, Map<string, string>>();

describe.each(stores)('derivations from nix-instantiate in $storeDir', (store) => {
  let drvs: Map<string, string>;
  let closure: DerivationClosure;
  let hashes: Map<string, Uint8Array>;

  beforeAll(async () => {
    drvs = instantiate(store, file);
    drvsByStore.set(store.storeDir, drvs);
    closure = await loadDerivationClosure([...drvs.values()], (path) =>
      Promise.resolve(readDrv(store, path)),
    );
    hashes = hashDerivationClosure(closure, store.storeDir);
  });

  it('instantiated every case into the right store', () => {
    expect([...drvs.keys()]).toEqual([...ATTRS]);
    for (const path of drvs.values()) expect(path.startsWith(`${store.storeDir}/`)).toBe(true);
    expect(closure.order.length).toBe(drvs.size);
  });

  it('writes every derivation back byte for byte', () => {
    for (const path of closure.order) {
      const bytes = readDrv(store, path);
      expect(Buffer.from(writeDerivation(parseDerivation(bytes))).equals(Buffer.from(bytes)), path).toBe(
        true,
      );
    }
  });

  it('computes every .drv path and every output path as Nix did', () => {
    for (const path of closure.order) {
      const drv = closure.derivations.get(path)!;
      const name = derivationNameFromPath(path, store.storeDir);
      expect(computeDerivationPath(drv, name, store.storeDir)).toBe(path);
      const outputs = computeOutputPaths(drv, { storeDir: store.storeDir, name, inputHashes: hashes });
      expect([...outputs.keys()]).toEqual([...drv.outputs.keys()]);
      for (const [output, { path: nixPath }] of drv.outputs)
        expect(outputs.get(output), `${path} ${output}`).toBe(nixPath);
      const verified = verifyDerivation(path, readDrv(store, path), {
        storeDir: store.storeDir,
        inputHashes: hashes,
      });
      expect(verified.hashModulo).toEqual(hashes.get(path));
    }
  });

  it('covers the kinds of derivation it claims to', () => {
    const get = (attr: string) => closure.derivations.get(drvs.get(attr)!)!;
    expect([...get('multi').outputs.keys()]).toEqual(['dev', 'doc', 'out']);
    expect(get('multi').outputs.get('dev')!.path).toMatch(/-multi-dev$/);
    expect(derivationKind(get('fixedFlat'))).toMatchObject({ type: 'fixed-output', method: 'flat' });
    expect(get('fixedRec').outputs.get('out')!.hashAlgo).toBe('r:sha256');
    expect(get('fixedSha1').outputs.get('out')!.hashAlgo).toBe('sha1');
    expect(get('withSrc').inputSrcs).toHaveLength(1);
    expect(get('chain2').inputDrvs.size).toBe(4);
    // Two fixed-output inputs with one output path: one modulo hash, and Nix agrees on chain-2's outputs.
    expect(hashes.get(drvs.get('fixedFlat')!)).toEqual(hashes.get(drvs.get('sameFixed')!));
    const env = get('weird').env;
    expect(env.get('quotes')).toBe(bytesToByteString(WEIRD_ENV.quotes));
    expect(env.get('utf8')).toBe(utf8ToByteString('héllo ☃ ünïcode'));
    expect(env.get('latin1')).toBe('caf\xe9 na\xefve \xff\x80');
  });

  it('builds with nix-store -r into the computed output paths', () => {
    const attrs = store.uri === undefined ? ['multi', 'chain2', 'fixedRec', 'weird'] : ['multi', 'fixedRec'];
    const paths = attrs.map((a) => drvs.get(a)!);
    const expected = paths
      .flatMap((p) => [...closure.derivations.get(p)!.outputs.values()].map((o) => o.path))
      .sort();
    expect(realise(store, paths)).toEqual(expected);
  });
});

describe('store directories', () => {
  it('gives different paths for the same expression under /gnu/store and /nix/store', () => {
    const nix = drvsByStore.get('/nix/store')!;
    const gnu = drvsByStore.get('/gnu/store')!;
    for (const attr of ATTRS) {
      const a = nix.get(attr)!;
      const b = gnu.get(attr)!;
      expect(b.slice('/gnu/store/'.length)).not.toBe(a.slice('/nix/store/'.length));
      expect(b.slice(43)).toBe(a.slice(43));
    }
  });
});
