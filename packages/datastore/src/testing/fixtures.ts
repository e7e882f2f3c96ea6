// Test and benchmark support: synthetic derivations with valid-looking store
// paths (the datastore does not check them; @gbc/store does). Strings are
// made flat (joined), as parsed ones are: V8 keeps `a + b` as a tree that
// whoever reads it first must copy flat, which benchmarks would otherwise
// charge to the datastore.
import { randomBytes } from 'node:crypto';
import type { DerivationRecord } from '../types.js';

const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

/** A random 32-character nix32 hash part. */
export function randomHashPart(): string {
  const bytes = randomBytes(32);
  const out = new Array<string>(32);
  for (let i = 0; i < 32; i++) out[i] = ALPHABET[bytes[i]! % 32]!;
  return out.join('');
}

/** Options of {@link fakeDerivation}. */
export interface FakeDerivationOptions {
  readonly system?: string;
  readonly inputs?: readonly DerivationRecord[];
  readonly outputs?: readonly string[];
  readonly storeDir?: string;
}

/** A derivation record named `name` whose inputs are `options.inputs` (their `out` output). */
export function fakeDerivation(name: string, options: FakeDerivationOptions = {}): DerivationRecord {
  const storeDir = options.storeDir ?? '/gnu/store';
  const path = [storeDir, '/', randomHashPart(), '-', name, '.drv'].join('');
  const outputs = (options.outputs ?? ['out']).map((o) => ({
    name: o,
    path: [storeDir, '/', randomHashPart(), '-', name, o === 'out' ? '' : `-${o}`].join(''),
    hashAlgo: '',
    hash: '',
  }));
  const inputs = (options.inputs ?? []).map((i) => ({ path: i.path, outputs: ['out'] }));
  const text = Buffer.from(
    `Derive([${outputs.map((o) => `("${o.name}","${o.path}","","")`).join(',')}],[${inputs.map((i) => `("${i.path}",["out"])`).join(',')}],[],"${options.system ?? 'x86_64-linux'}","/bin/sh",["-c","true"],[("name","${name}")])`,
  );
  return {
    path,
    name,
    system: options.system ?? 'x86_64-linux',
    fixedOutput: false,
    text,
    outputs,
    inputDerivations: inputs,
    inputSources: [],
  };
}

/** A chain of `n` derivations, each depending on the previous one. */
export function fakeChain(n: number, prefix = 'chain', system?: string): DerivationRecord[] {
  const out: DerivationRecord[] = [];
  for (let i = 0; i < n; i++)
    out.push(fakeDerivation(`${prefix}-${i}`, { system, inputs: i === 0 ? [] : [out[i - 1]!] }));
  return out;
}

/** A wide DAG: `n` derivations, each depending on up to `fanIn` random earlier ones. */
export function fakeWideDag(n: number, fanIn = 3, prefix = 'dag', system?: string): DerivationRecord[] {
  const out: DerivationRecord[] = [];
  for (let i = 0; i < n; i++) {
    const inputs = new Set<DerivationRecord>();
    for (let k = 0; k < Math.min(fanIn, i); k++) inputs.add(out[Math.floor(Math.random() * i)]!);
    out.push(fakeDerivation(`${prefix}-${i}`, { system, inputs: [...inputs] }));
  }
  return out;
}
