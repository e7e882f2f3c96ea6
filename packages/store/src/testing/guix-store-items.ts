// Test support: what a test puts into a real guix-daemon's store — a static
// busybox as a signed, content-addressed import (Guix ≥ 1.5.0 runs only
// builders inside the store), and shell derivations built by it.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildDaemon } from '../daemon/build-daemon.js';
import {
  computeDerivationPath,
  derivationReferences,
  fillOutputPaths,
  hashDerivationModulo,
  writeDerivation,
} from '../derivation/index.js';
import type { Derivation, DerivationOutput } from '../derivation/index.js';
import { encodeBase16, makeHash } from '../hash/index.js';
import { dumpNar, hashNar } from '../nar/index.js';
import { parseGuixSecretKey, type GuixSecretKey } from '../signature/guix/index.js';
import { makeSourcePath } from '../store-path/index.js';
import { guixDir } from './guix-daemon.js';

/** The machine's Guix signing key (/etc/guix/signing-key.sec), authorised by /etc/guix/acl. */
export function machineGuixKey(file = '/etc/guix/signing-key.sec'): GuixSecretKey {
  return parseGuixSecretKey(readFileSync(file));
}

/**
 * Imports $GBC_GUIX_DIR/busybox/bin/busybox as the store item `…-busybox`
 * (`bin/busybox` and `bin/sh -> busybox`, its path computed from its NAR
 * hash) through a signed import-paths; returns its store path. Nothing is
 * sent when the path is already valid.
 */
export async function addBusybox(
  daemon: BuildDaemon,
  key: GuixSecretKey = machineGuixKey(),
  busybox?: string,
): Promise<string> {
  const binary = busybox ?? join(guixDir() ?? '', 'busybox', 'bin', 'busybox');
  const dir = mkdtempSync(join(tmpdir(), 'gbc-busybox-'));
  try {
    const tree = join(dir, 'busybox');
    mkdirSync(join(tree, 'bin'), { recursive: true });
    copyFileSync(binary, join(tree, 'bin', 'busybox'));
    symlinkSync('busybox', join(tree, 'bin', 'sh'));
    const { narHash, narSize } = await hashNar(dumpNar(tree));
    const path = makeSourcePath(daemon.storeDir, 'busybox', makeHash('sha256', narHash));
    if (await daemon.isValidPath(path)) return path;
    await daemon.addNar(
      { path, narHash: encodeBase16(narHash), narSize, references: [], guixSigningKey: key },
      dumpNar(tree),
    );
    return path;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A derivation a test added to the store. */
export interface TestDerivation {
  readonly drvPath: string;
  readonly drv: Derivation;
  /** Output name → output path. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Its modulo hash, which derivations that depend on it need. */
  readonly moduloHash: Uint8Array;
}

/** What {@link addShellDerivation} makes. */
export interface ShellDerivationSpec {
  readonly name: string;
  /** Run as `busybox sh -c script`; write `$out` (and each output's variable). */
  readonly script: string;
  /** The busybox store path from {@link addBusybox}. */
  readonly busybox: string;
  /** Derivations whose outputs (all of them) the build uses. */
  readonly inputs?: readonly TestDerivation[];
  /** Further input sources (store paths). */
  readonly inputSrcs?: readonly string[];
  /** Output names; default `['out']`. */
  readonly outputs?: readonly string[];
  /** Further environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default `x86_64-linux`. */
  readonly system?: string;
}

/**
 * Writes a derivation (ATerm, output paths computed) whose builder is
 * busybox's `sh -c script`, with PATH set to busybox's bin, adds it with
 * add-text-to-store and returns it. Throws if the daemon stores it under
 * another path than the one computed.
 */
export async function addShellDerivation(
  daemon: BuildDaemon,
  spec: ShellDerivationSpec,
): Promise<TestDerivation> {
  const storeDir = daemon.storeDir;
  const inputs = spec.inputs ?? [];
  const outputs = new Map<string, DerivationOutput>(
    (spec.outputs ?? ['out']).map((o) => [o, { path: '', hashAlgo: '', hash: '' }]),
  );
  const env = new Map<string, string>([['PATH', `${spec.busybox}/bin`], ...Object.entries(spec.env ?? {})]);
  const blank: Derivation = {
    outputs,
    inputDrvs: new Map(inputs.map((i) => [i.drvPath, [...i.outputs.keys()].sort()])),
    inputSrcs: [...new Set([spec.busybox, ...(spec.inputSrcs ?? [])])].sort(),
    system: spec.system ?? 'x86_64-linux',
    builder: `${spec.busybox}/bin/sh`,
    args: ['-c', spec.script],
    env,
  };
  const inputHashes = new Map(inputs.map((i) => [i.drvPath, i.moduloHash]));
  const drv = fillOutputPaths(blank, { storeDir, name: spec.name, inputHashes });
  const bytes = writeDerivation(drv);
  const expected = computeDerivationPath(drv, spec.name, storeDir, bytes);
  const drvPath = await daemon.addTextToStore(`${spec.name}.drv`, bytes, derivationReferences(drv));
  if (drvPath !== expected)
    throw new Error(`the daemon stored ${spec.name}.drv as ${drvPath}, not ${expected}`);
  return {
    drvPath,
    drv,
    outputs: new Map([...drv.outputs].map(([name, o]) => [name, o.path])),
    moduloHash: hashDerivationModulo(drv, { storeDir, name: spec.name, inputHashes }),
  };
}
