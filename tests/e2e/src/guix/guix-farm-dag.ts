// The Guix farm's derivation graph, written as files into a directory that
// stands for a workstation's /gnu/store (for `gbc submit-build
// --real-store-dir`): Debian's static busybox as an input source (the
// store-resident builder guix-daemon ≥ 1.5.0 requires), and 12 derivations
// built by it. Leaves and the top are pinned to machine one, the middles to
// machine two, so every middle consumes leaves and the top consumes middles
// built on the other machine. Besides: a failure and its blocked dependent, a
// build that falls silent and one that never ends (for the two time limits).
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { arch } from 'node:process';
import { join } from 'node:path';
import {
  computeDerivationPath,
  dumpNar,
  fillOutputPaths,
  formatNarHash,
  hashDerivationModulo,
  hashNar,
  makeHash,
  makeSourcePath,
  storePathBasename,
  writeDerivation,
  type Derivation,
} from '@gbc/store';

/** Guix's store directory. */
export const GNU_STORE = '/gnu/store';

/** The graph's derivations. */
export const GUIX_DAG_NAMES = [
  'leaf0',
  'leaf1',
  'leaf2',
  'leaf3',
  'mid0',
  'mid1',
  'mid2',
  'top',
  'fail',
  'afterFail',
  'silent',
  'endless',
] as const;
/** One of {@link GUIX_DAG_NAMES}. */
export type GuixDagName = (typeof GUIX_DAG_NAMES)[number];

/** How each derivation is submitted: pinned to a machine (agent tag `machine`), or under a short time limit. */
export type Submission =
  { readonly machine: 'one' | 'two' } | { readonly maxSilentTime: number } | { readonly timeout: number };

/** Input derivations of each derivation (their `out`). */
export const GUIX_DAG_INPUTS: Readonly<Record<GuixDagName, readonly GuixDagName[]>> = {
  leaf0: [],
  leaf1: [],
  leaf2: [],
  leaf3: [],
  mid0: ['leaf0', 'leaf1'],
  mid1: ['leaf2', 'leaf3'],
  mid2: ['leaf1', 'leaf2'],
  top: ['mid0', 'mid1', 'mid2'],
  fail: [],
  afterFail: ['fail', 'leaf0'],
  silent: [],
  endless: [],
};

/** Submission of each derivation: seconds for the limits, far below how long those builders would run. */
export const GUIX_DAG_SUBMISSIONS: Readonly<Record<GuixDagName, Submission>> = {
  leaf0: { machine: 'one' },
  leaf1: { machine: 'one' },
  leaf2: { machine: 'one' },
  leaf3: { machine: 'one' },
  mid0: { machine: 'two' },
  mid1: { machine: 'two' },
  mid2: { machine: 'two' },
  top: { machine: 'one' },
  fail: { machine: 'two' },
  afterFail: { machine: 'one' },
  silent: { maxSilentTime: 2 },
  endless: { timeout: 3 },
};

/** Derivations whose builds succeed, fail (builder exit 1), stay blocked by that failure, or hit a time limit. */
export const GUIX_SUCCEEDING: readonly GuixDagName[] = [
  'leaf0',
  'leaf1',
  'leaf2',
  'leaf3',
  'mid0',
  'mid1',
  'mid2',
  'top',
];
export const GUIX_FAILING: GuixDagName = 'fail';
export const GUIX_BLOCKED: GuixDagName = 'afterFail';

/** A written graph. */
export interface GuixFarmDag {
  readonly marker: string;
  /** The busybox input source (`<path>/bin/busybox`). */
  readonly busybox: string;
  /** Its NAR hash, `sha256:<nix32>`. */
  readonly busyboxNarHash: string;
  /** Name → `.drv` path. */
  readonly drvs: ReadonlyMap<GuixDagName, string>;
  /** Name → output path. */
  readonly outputs: ReadonlyMap<GuixDagName, string>;
  /** The directory holding the files of these store paths. */
  readonly realStoreDir: string;
}

/** The script of each builder (busybox sh; its applets run without PATH). */
function scriptOf(name: GuixDagName, inputs: readonly string[]): string {
  const list = inputs.join(' ');
  if (name.startsWith('leaf')) return `echo building ${name} $MARKER; echo ${name} $MARKER > $out`;
  switch (name) {
    case 'fail':
      return 'echo failing on purpose $MARKER; exit 1';
    case 'silent':
      return 'echo going silent $MARKER; sleep 600; echo never > $out';
    case 'endless':
      return 'while true; do echo still going $MARKER; sleep 1; done';
    default:
      // The output names its inputs, so it refers to them: imports must bring references first.
      return `echo building ${name} $MARKER; cat ${list} > $out; echo ${list} >> $out`;
  }
}

/** The system guix-daemon builds for on this machine (`x86_64-linux`, …). */
export function guixSystem(): string {
  const cpu: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' };
  return `${cpu[arch] ?? arch}-linux`;
}

/** Copies `busyboxBinary` into `realStoreDir` as a source store item `<hash>-busybox-static` holding `bin/busybox`. */
function writeBusybox(
  realStoreDir: string,
  busyboxBinary: string,
): Promise<{ path: string; narHash: string }> {
  const staging = join(realStoreDir, '.busybox-staging');
  mkdirSync(join(staging, 'bin'), { recursive: true });
  copyFileSync(busyboxBinary, join(staging, 'bin', 'busybox'));
  return hashNar(dumpNar(staging)).then(({ narHash }) => {
    const path = makeSourcePath(GNU_STORE, 'busybox-static', makeHash('sha256', narHash));
    renameSync(staging, join(realStoreDir, storePathBasename(path)));
    return { path, narHash: formatNarHash(narHash) };
  });
}

/** Writes busybox and the graph (`marker` makes every path new) into `realStoreDir`. */
export async function writeGuixFarmDag(
  realStoreDir: string,
  busyboxBinary: string,
  marker: string,
): Promise<GuixFarmDag> {
  mkdirSync(realStoreDir, { recursive: true });
  const busybox = await writeBusybox(realStoreDir, busyboxBinary);
  const builder = `${busybox.path}/bin/busybox`;
  const drvs = new Map<GuixDagName, string>();
  const outputs = new Map<GuixDagName, string>();
  const modulo = new Map<string, Uint8Array>();
  for (const name of GUIX_DAG_NAMES) {
    const inputs = GUIX_DAG_INPUTS[name];
    const drvName = `guix-farm-${name.toLowerCase()}`;
    const draft: Derivation = {
      outputs: new Map([['out', { path: '', hashAlgo: '', hash: '' }]]),
      inputDrvs: new Map(inputs.map((i) => [drvs.get(i)!, ['out']])),
      inputSrcs: [busybox.path],
      system: guixSystem(),
      builder,
      args: [
        'sh',
        '-c',
        scriptOf(
          name,
          inputs.map((i) => outputs.get(i)!),
        ),
      ],
      env: new Map([
        ['name', drvName],
        ['builder', builder],
        ['system', guixSystem()],
        ['MARKER', marker],
      ]),
    };
    const inputHashes = new Map(inputs.map((i) => [drvs.get(i)!, modulo.get(drvs.get(i)!)!]));
    const derivation = fillOutputPaths(draft, { storeDir: GNU_STORE, name: drvName, inputHashes });
    const bytes = writeDerivation(derivation);
    const path = computeDerivationPath(derivation, drvName, GNU_STORE, bytes);
    writeFileSync(join(realStoreDir, storePathBasename(path)), bytes);
    drvs.set(name, path);
    outputs.set(name, derivation.outputs.get('out')!.path);
    modulo.set(path, hashDerivationModulo(derivation, { storeDir: GNU_STORE, name: drvName, inputHashes }));
  }
  return { marker, busybox: busybox.path, busyboxNarHash: busybox.narHash, drvs, outputs, realStoreDir };
}
