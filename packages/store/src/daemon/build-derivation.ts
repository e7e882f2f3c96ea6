// BuildDerivation (op 36, Nix only): build from the derivation itself, no
// .drv in the store needed, with a typed BuildResult on every Nix version.
import { encodeBytes, encodeStringList, encodeU64 } from '../wire/byte-writer.js';
import type { BuildRequest, BuildResult } from './build-daemon.js';
import { runBuild } from './build.js';
import { readBuildResult } from './build-result.js';
import { BuildMode, Op } from './constants.js';
import { DaemonProtocolError } from './errors.js';
import type { DaemonSession } from './session.js';

/**
 * What BuildDerivation sends: a derivation without its input derivations.
 * Strings are byte strings (one code unit per byte), as in `Derivation` of
 * ../derivation/, which fits this shape. `inputSrcs` must list every store
 * path the build reads, the outputs of input derivations included.
 */
export interface BasicDerivation {
  readonly outputs: ReadonlyMap<
    string,
    { readonly path: string; readonly hashAlgo: string; readonly hash: string }
  >;
  readonly inputSrcs: readonly string[];
  readonly system: string;
  readonly builder: string;
  readonly args: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** Encodes a BasicDerivation as the worker protocol carries it (maps sorted by key). */
export function encodeBasicDerivation(drv: BasicDerivation): Uint8Array {
  const byKey = <V>(m: ReadonlyMap<string, V>): [string, V][] =>
    [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const outputs = byKey(drv.outputs).flatMap(([name, o]) => [
    encodeBytes(bytes(name)),
    encodeBytes(o.path),
    encodeBytes(o.hashAlgo),
    encodeBytes(o.hash),
  ]);
  const env = byKey(drv.env).flatMap(([k, v]) => [encodeBytes(bytes(k)), encodeBytes(bytes(v))]);
  return Buffer.concat([
    encodeU64(drv.outputs.size),
    ...outputs,
    encodeStringList([...drv.inputSrcs].sort()),
    encodeBytes(bytes(drv.system)),
    encodeBytes(bytes(drv.builder)),
    encodeStringList(drv.args.map(bytes)),
    encodeU64(drv.env.size),
    ...env,
  ]);
}

/**
 * Builds `drv` (whose path is `drvPath`) with BuildDerivation. Nix only: the
 * inputs must already be valid; the daemon does not read the .drv file.
 * guix-daemon has no such operation (`unsupported-operation`).
 */
export async function buildDerivationOn(
  session: DaemonSession,
  drvPath: string,
  drv: BasicDerivation,
  request: BuildRequest = {},
): Promise<BuildResult> {
  if (session.info.dialect !== 'nix') {
    throw new DaemonProtocolError(
      'unsupported-operation',
      'guix-daemon has no BuildDerivation; add the derivation and use build',
      {
        expected: 'a Nix daemon',
        found: 'guix-daemon',
      },
    );
  }
  return await runBuild(session, drvPath, request, async (onEvent) => {
    session.request(
      Op.BuildDerivation,
      encodeBytes(drvPath),
      encodeBasicDerivation(drv),
      encodeU64(BuildMode[request.mode ?? 'normal']),
    );
    await session.finish('build-derivation', onEvent);
    return readBuildResult(session);
  });
}
