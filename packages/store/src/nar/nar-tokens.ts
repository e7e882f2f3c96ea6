// The fixed tokens of the NAR format and the rules on entry names and
// symlink targets, shared by the writer, the reader and the re-encoder.
import { encodeBytes } from '../wire/index.js';

/** The archive's first string. */
export const NAR_MAGIC = 'nix-archive-1';

/** Longest entry name accepted (Linux NAME_MAX), in bytes. */
export const MAX_NAME_BYTES = 255;

/** Longest symlink target accepted (Linux PATH_MAX less the NUL), in bytes. */
export const MAX_TARGET_BYTES = 4095;

/** Longest path of a node relative to the archive's root (Linux PATH_MAX), in bytes. */
export const MAX_PATH_BYTES = 4096;

/** Every fixed token, pre-encoded as a length-prefixed padded string. */
export const TOKENS = {
  magic: encodeBytes(NAR_MAGIC),
  open: encodeBytes('('),
  close: encodeBytes(')'),
  type: encodeBytes('type'),
  regular: encodeBytes('regular'),
  executable: encodeBytes('executable'),
  empty: encodeBytes(''),
  contents: encodeBytes('contents'),
  symlink: encodeBytes('symlink'),
  target: encodeBytes('target'),
  directory: encodeBytes('directory'),
  entry: encodeBytes('entry'),
  name: encodeBytes('name'),
  node: encodeBytes('node'),
} as const;

/** Why `name` may not be a directory entry's name, or undefined when it may. */
export function nameProblem(name: Uint8Array): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (name.length === 1 && name[0] === 0x2e) return 'the name is "."';
  if (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e) return 'the name is ".."';
  if (name.includes(0x2f)) return 'the name contains "/"';
  if (name.includes(0)) return 'the name contains a NUL byte';
  return undefined;
}

/** Why `target` may not be a symlink's target, or undefined when it may. */
export function targetProblem(target: Uint8Array): string | undefined {
  if (target.length === 0) return 'the target is empty';
  if (target.length > MAX_TARGET_BYTES) return `the target is longer than ${MAX_TARGET_BYTES} bytes`;
  if (target.includes(0)) return 'the target contains a NUL byte';
  return undefined;
}

/** Byte-wise comparison (negative, zero, positive), the order of NAR entries. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
