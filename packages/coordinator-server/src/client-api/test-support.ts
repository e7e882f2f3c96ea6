// Test support for the client API tests (not exported): a real coordinator on
// a fresh SQLite file or PostgreSQL database, derivations made by
// nix-instantiate, and synthetic /gnu/store derivations computed with @gbc/store.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeDerivationPath,
  derivationNameFromPath,
  fillOutputPaths,
  hashDerivationModulo,
  writeDerivation,
} from '@gbc/store';
import type { Derivation } from '@gbc/store';
import type { Db } from '@gbc/datastore';
import { createManualClock } from '../clock.js';
import type { ManualClock } from '../clock.js';
import { createCoordinator } from '../coordinator/create-coordinator.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { silentLogger } from '../logger.js';

/** The two datastore dialects every client-API test file runs on. */
export const DIALECTS = ['sqlite', 'postgres'] as const;

/** A started coordinator on a database of its own, and how to remove it all. */
export interface TestCoordinator {
  readonly coordinator: Coordinator;
  readonly clock: ManualClock;
  /** `clientApp.request` with JSON helpers. */
  request(path: string, init?: RequestInit): Promise<Response>;
  json(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** The PostgreSQL server of the tests; a clear error when GBC_TEST_POSTGRES_URI is missing. */
export function postgresUri(): string {
  const uri = process.env.GBC_TEST_POSTGRES_URI;
  if (uri === undefined || uri === '')
    throw new Error(
      'GBC_TEST_POSTGRES_URI is not set: these tests need PostgreSQL, e.g. GBC_TEST_POSTGRES_URI=postgres://postgres@127.0.0.1:54329/gbc (scripts/test sets it)',
    );
  return uri;
}

/** Starts a coordinator on a fresh database of `dialect`; `storeDir` is the client app's. */
export async function startTestCoordinator(
  dialect: (typeof DIALECTS)[number],
  storeDir = '/nix/store',
  jsonBodyBytes?: number,
): Promise<TestCoordinator> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-client-'));
  let databaseUri = `sqlite://${join(dir, 'gbc.db')}`;
  let drop = (): void => undefined;
  if (dialect === 'postgres') {
    const base = postgresUri();
    const name = `gbc_client_${randomBytes(6).toString('hex')}`;
    execFileSync('psql', [base, '-qc', `create database ${name}`], { stdio: 'pipe' });
    const url = new URL(base);
    url.pathname = `/${name}`;
    databaseUri = url.toString();
    drop = () =>
      execFileSync('psql', [base, '-qc', `drop database if exists ${name} with (force)`], { stdio: 'pipe' });
  }
  const clock = createManualClock(Date.UTC(2026, 10, 27, 12));
  const coordinator = await createCoordinator({
    databaseUri,
    dataDir: join(dir, 'data'),
    logger: silentLogger,
    clock,
    cwd: dir,
    storeDir,
    client: { keepAliveMs: 50 },
    jsonBodyBytes,
  });
  await coordinator.start();
  const request = async (path: string, init?: RequestInit): Promise<Response> =>
    coordinator.clientApp.request(path, init);
  return {
    coordinator,
    clock,
    request,
    json: (method, path, body) =>
      request(
        path,
        body === undefined
          ? { method }
          : { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } },
      ),
    async close() {
      await coordinator.stop();
      drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Derivations instantiated by nix-instantiate: a source, `dep`, `top` (needs dep and the source). */
export interface NixDerivations {
  readonly source: string;
  readonly dep: string;
  readonly top: string;
  /** The exact bytes of a `.drv` in /nix/store. */
  read(path: string): Uint8Array;
}

/** Instantiates the test expression (a fresh `nonce` makes fresh paths). */
export function instantiateNix(nonce = randomBytes(4).toString('hex')): NixDerivations {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-client-nix-'));
  try {
    const file = join(dir, 'expr.nix');
    writeFileSync(
      file,
      `let
  mk = attrs: derivation ({ system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; nonce = "${nonce}"; } // attrs);
  source = builtins.toFile "client-src-${nonce}.txt" "source ${nonce}\\n";
in rec {
  inherit source;
  dep = mk { name = "client-dep"; args = [ "-c" "echo dep > $out" ]; };
  top = mk { name = "client-top"; args = [ "-c" "cat \${source} \${dep} > $out" ]; };
}
`,
    );
    const nix = (attr: string): string =>
      execFileSync('nix-instantiate', ['--eval', '--strict', file, '-A', attr], {
        encoding: 'utf8',
        env: { ...process.env, NIX_REMOTE: 'daemon' },
      })
        .trim()
        .replace(/^"|"$/g, '');
    const drv = (attr: string): string =>
      execFileSync('nix-instantiate', [file, '-A', attr], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NIX_REMOTE: 'daemon' },
      }).trim();
    return {
      source: nix('source'),
      dep: drv('dep'),
      top: drv('top'),
      read: (path) => new Uint8Array(readFileSync(path)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The NAR of a store path and its hash and size, from nix-store. */
export function narOf(path: string): { nar: Uint8Array; narHash: string; narSize: number } {
  const env = { ...process.env, NIX_REMOTE: 'daemon' };
  const nar = new Uint8Array(execFileSync('nix-store', ['--dump', path], { env, maxBuffer: 1 << 26 }));
  const narHash = execFileSync('nix-store', ['-q', '--hash', path], { encoding: 'utf8', env }).trim();
  return { nar, narHash, narSize: nar.byteLength };
}

/** A synthetic derivation under /gnu/store with correct paths: its path, bytes and modulo hash. */
export interface SyntheticDerivation {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly derivation: Derivation;
  readonly hashModulo: Uint8Array;
  /** Output name → path. */
  readonly outputs: ReadonlyMap<string, string>;
}

/**
 * Makes `/gnu/store/…-<name>.drv` depending on the `out` of each of `inputs`;
 * with `fixedSha256` (hex), a fixed-output derivation (its output path then
 * depends only on the name and the hash, not on `script`).
 */
export function syntheticDerivation(
  name: string,
  inputs: readonly SyntheticDerivation[] = [],
  system = 'x86_64-linux',
  storeDir = '/gnu/store',
  fixedSha256?: string,
  script = `echo ${name} > $out`,
): SyntheticDerivation {
  const inputHashes = new Map(inputs.map((i) => [i.path, i.hashModulo]));
  const blank: Derivation = {
    outputs: new Map([
      ['out', { path: '', hashAlgo: fixedSha256 === undefined ? '' : 'sha256', hash: fixedSha256 ?? '' }],
    ]),
    inputDrvs: new Map(inputs.map((i) => [i.path, ['out']])),
    inputSrcs: [],
    system,
    builder: '/bin/sh',
    args: ['-c', script],
    env: new Map([
      ['name', name],
      ['out', ''],
      ['system', system],
      ['builder', '/bin/sh'],
    ]),
  };
  const derivation = fillOutputPaths(blank, { storeDir, name, inputHashes });
  const bytes = writeDerivation(derivation);
  const path = computeDerivationPath(derivation, name, storeDir, bytes);
  const hashModulo = hashDerivationModulo(derivation, {
    storeDir,
    name: derivationNameFromPath(path, storeDir),
    inputHashes,
  });
  return {
    path,
    bytes,
    derivation,
    hashModulo,
    outputs: new Map([...derivation.outputs].map(([o, v]) => [o, v.path])),
  };
}

/** Adds a fresh directory (a source path by NAR hash), a flat fixed file and their store paths, with nix-store. */
export function addNixSources(nonce = randomBytes(4).toString('hex')): {
  directory: string;
  flat: string;
  executableText: Uint8Array;
} {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-client-src-'));
  try {
    const env = { ...process.env, NIX_REMOTE: 'daemon' };
    const tree = join(dir, `tree-${nonce}`);
    execFileSync('mkdir', ['-p', join(tree, 'sub')]);
    writeFileSync(join(tree, 'sub', 'file'), `tree ${nonce}\n`);
    writeFileSync(join(tree, 'run'), '#!/bin/sh\n', { mode: 0o755 });
    const flatFile = join(dir, `flat-${nonce}.txt`);
    writeFileSync(flatFile, `flat ${nonce}\n`);
    const directory = execFileSync('nix-store', ['--add', tree], { encoding: 'utf8', env }).trim();
    const flat = execFileSync('nix-store', ['--add-fixed', 'sha256', flatFile], {
      encoding: 'utf8',
      env,
    }).trim();
    return { directory, flat, executableText: new TextEncoder().encode('#!/bin/sh\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Events of `type` ever written to the hook outbox (done or not: hook workers may have run them). */
export async function outboxCount(db: Db, type: string): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('event_type', '=', type)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
