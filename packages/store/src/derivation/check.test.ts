// checkDerivation refuses every inconsistency the coordinator must refuse.
import { describe, expect, it } from 'vitest';
import { checkDerivation, verifyDerivation } from './check.js';
import { DerivationError } from './errors.js';
import { makeDerivation } from './test-derivations.js';
import type { Derivation } from './types.js';
import { computeDerivationPath } from './derivation-path.js';
import { writeDerivation } from './write.js';
import { computeOutputPaths } from './output-paths.js';

const storeDir = '/gnu/store';
const dep = makeDerivation(storeDir, 'dep');
const top = makeDerivation(storeDir, 'top', [dep], ['out', 'lib']);
const inputHashes = new Map([[dep.path, dep.hashModulo]]);

function codes(drv: Derivation, name = 'top', path?: string): string[] {
  const bytes = writeDerivation(drv);
  const result = checkDerivation(path ?? computeDerivationPath(drv, name, storeDir, bytes), bytes, {
    storeDir,
    inputHashes,
  });
  return result.ok ? [] : result.errors.map((e) => e.code);
}

describe('checkDerivation', () => {
  it('accepts a consistent derivation and returns its modulo hash', () => {
    const verified = verifyDerivation(top.path, top.bytes, { storeDir, inputHashes });
    expect(verified.name).toBe('top');
    expect(verified.hashModulo).toEqual(top.hashModulo);
    expect(computeOutputPaths(top.derivation, { storeDir, name: 'top', inputHashes }).get('lib')).toMatch(
      /-top-lib$/,
    );
  });

  it('refuses a path that does not match the text', () => {
    expect(codes(top.derivation, 'top', dep.path.replace('-dep.drv', '-top.drv'))).toEqual(['drv-path']);
    expect(codes(top.derivation, 'top', top.path.replace('.drv', ''))).toEqual(['drv-name']);
    expect(codes(top.derivation, 'top', top.path.replace(storeDir, '/nix/store'))).toEqual(['drv-name']);
  });

  it('refuses a wrong output path and a wrong output variable', () => {
    const outputs = new Map(top.derivation.outputs);
    outputs.set('lib', { path: dep.derivation.outputs.get('out')!.path, hashAlgo: '', hash: '' });
    // Output paths and their variables are masked in the hash: only the wrong entry is reported.
    expect(codes({ ...top.derivation, outputs })).toEqual(['drv-output-path']);
    const env = new Map(top.derivation.env);
    env.set('out', 'elsewhere');
    expect(codes({ ...top.derivation, env })).toEqual(['drv-output-env']);
    env.delete('out');
    expect(codes({ ...top.derivation, env })).toContain('drv-output-env');
  });

  it('refuses unknown inputs, unsupported kinds, foreign references and unparsable text', () => {
    const bytes = top.bytes;
    const noInputs = checkDerivation(top.path, bytes, { storeDir, inputHashes: new Map() });
    expect(noInputs.ok ? [] : noInputs.errors.map((e) => e.code)).toEqual(['drv-input-missing']);
    const outputs = new Map([['out', { path: '', hashAlgo: 'r:sha256', hash: '' }]]);
    expect(codes({ ...top.derivation, outputs })).toEqual(['drv-unsupported']);
    const badHash = new Map([['out', { path: '', hashAlgo: 'sha256', hash: 'abc' }]]);
    expect(codes({ ...top.derivation, outputs: badHash })).toEqual(['drv-unsupported']);
    const srcs = { ...top.derivation, inputSrcs: ['/nix/store/00000000000000000000000000000000-x'] };
    const result = checkDerivation(top.path, writeDerivation(srcs), { storeDir, inputHashes });
    expect(result.ok ? [] : result.errors.map((e) => e.code)).toContain('drv-path');
    const garbage = checkDerivation(top.path, new TextEncoder().encode('Derive('), { storeDir, inputHashes });
    expect(garbage.ok).toBe(false);
    expect(() => verifyDerivation(top.path, new Uint8Array(0), { storeDir, inputHashes })).toThrow(
      DerivationError,
    );
  });

  it('refuses strings that are not bytes when writing', () => {
    const env = new Map(top.derivation.env);
    env.set('snow', '☃');
    expect(() => writeDerivation({ ...top.derivation, env })).toThrow(/above 0xFF/);
  });
});
