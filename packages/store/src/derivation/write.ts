// Writes a Derivation back to the exact bytes Nix writes: `Derive(...)`,
// maps sorted by key, strings escaped with \" \\ \n \r \t only.
import { byteStringToBytes } from './byte-string.js';
import type { Derivation } from './types.js';

const ESCAPE = /["\\\n\r\t]/g;
const ESCAPED: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** Byte order comparison of byte strings (code units ≤ 0xFF compare as bytes). */
export function compareByteStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function str(s: string): string {
  return `"${s.replace(ESCAPE, (c) => ESCAPED[c]!)}"`;
}

function list(items: readonly string[]): string {
  return `[${items.join(',')}]`;
}

function sortedKeys<V>(map: ReadonlyMap<string, V>): string[] {
  return [...map.keys()].sort(compareByteStrings);
}

function sortedSet(items: Iterable<string>): string[] {
  return [...new Set(items)].sort(compareByteStrings);
}

/** The derivation's ATerm text as a byte string (see types.ts). */
export function derivationToByteString(drv: Derivation): string {
  const outputs = sortedKeys(drv.outputs).map((name) => {
    const o = drv.outputs.get(name)!;
    return `(${str(name)},${str(o.path)},${str(o.hashAlgo)},${str(o.hash)})`;
  });
  const inputDrvs = sortedKeys(drv.inputDrvs).map(
    (path) => `(${str(path)},${list(sortedSet(drv.inputDrvs.get(path)!).map(str))})`,
  );
  const env = sortedKeys(drv.env).map((key) => `(${str(key)},${str(drv.env.get(key)!)})`);
  return (
    `Derive(${list(outputs)},${list(inputDrvs)},${list(sortedSet(drv.inputSrcs).map(str))},` +
    `${str(drv.system)},${str(drv.builder)},${list(drv.args.map(str))},${list(env)})`
  );
}

/**
 * Writes the derivation's bytes. A derivation read by parseDerivation comes
 * back byte for byte. Throws DerivationError `drv-not-bytes` when a string
 * holds a code unit above 0xFF (convert text with utf8ToByteString).
 */
export function writeDerivation(drv: Derivation): Uint8Array {
  return byteStringToBytes(derivationToByteString(drv));
}
