// A store path's NAR hash three ways, all as SRI (`sha256-<base64>`): what a
// coordinator's narinfo says (NarHash, Nix base-32), what `nix path-info
// --json` reports for the path in a local store, and the SHA-256 of
// `nix-store --dump` of it — Nix's own hashes, to hold the cache to.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { decodeNix32 } from '@gbc/store';
import { localStoreUri } from '../support/nix-daemon-process.js';

/** The NarHash of `path`'s narinfo at `cacheUrl`, as SRI. */
export async function narinfoNarHash(cacheUrl: string, path: string): Promise<string> {
  const res = await fetch(`${cacheUrl}/${basename(path).slice(0, 32)}.narinfo`);
  if (res.status !== 200) throw new Error(`${cacheUrl} answered ${res.status} for the narinfo of ${path}`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith('NarHash: sha256:'));
  if (line === undefined) throw new Error(`the narinfo of ${path} has no sha256 NarHash`);
  return `sha256-${Buffer.from(decodeNix32(line.slice('NarHash: sha256:'.length))).toString('base64')}`;
}

/** `nix path-info --json`'s narHash of `path` in the local store under `root`; throws when the dump of the path hashes otherwise. */
export function narHashOfStorePath(root: string, path: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NIX_REMOTE;
  const store = localStoreUri('/nix/store', root);
  const info = JSON.parse(
    execFileSync('nix', ['path-info', '--json', '--store', store, path], { encoding: 'utf8', env }),
  ) as { narHash: string }[];
  // The files themselves: Nix 2.8 keeps a rooted store's files under `<root>/nix/store`.
  const onDisk = join(root, 'nix/store', basename(path));
  const dumped = execFileSync('nix-store', ['--dump', onDisk], { env, maxBuffer: 1 << 30 });
  const hashed = `sha256-${createHash('sha256').update(dumped).digest('base64')}`;
  if (info[0]?.narHash !== hashed)
    throw new Error(`nix path-info says ${info[0]?.narHash} for ${path}, its dump hashes to ${hashed}`);
  return hashed;
}
