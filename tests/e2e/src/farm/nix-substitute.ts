// Nix as the client of a binary cache: `nix-store --realise` of store paths
// into a fresh local store, substituting only from `cacheUrl` with signatures
// required and `publicKey` the only trusted key.
import { execFileSync } from 'node:child_process';
import { localStoreUri } from '../support/nix-daemon-process.js';

/** What to substitute, from where, into which store. */
export interface SubstituteRequest {
  readonly storeDir: string;
  /** Root of the receiving local store (created by Nix). */
  readonly root: string;
  /** `http://…` (a coordinator's agent URL) or `file:///…` (a published directory). */
  readonly cacheUrl: string;
  /** `name:base64`, as in a `.pub` file. */
  readonly publicKey: string;
  readonly paths: readonly string[];
}

/** Realises `paths` from the cache; returns the paths Nix printed; throws (with Nix's stderr) when Nix fails. */
export function realiseFromCache(request: SubstituteRequest): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NIX_REMOTE;
  // Nix opens substituters with its default store directory and skips a cache whose StoreDir differs
  // ("is for Nix stores with prefix '/gnu/store'"): make /gnu/store the default for this run.
  if (request.storeDir !== '/nix/store') env.NIX_STORE_DIR = request.storeDir;
  const args = [
    '--store',
    localStoreUri(request.storeDir, request.root),
    '--realise',
    ...request.paths,
    '--option',
    'substituters',
    request.cacheUrl,
    '--option',
    'trusted-public-keys',
    request.publicKey,
    '--option',
    'require-sigs',
    'true',
    '--option',
    'narinfo-cache-negative-ttl',
    '0',
  ];
  const out = execFileSync('nix-store', args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  return out
    .trim()
    .split('\n')
    .filter((l) => l !== '');
}
