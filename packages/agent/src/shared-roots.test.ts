// Temporary roots shared by builds against the real nix-daemon: a path stays
// alive while any build of its generation holds it and for the generation's
// age limit, and dies once the generation is closed; an old generation takes
// no new builds.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SharedTempRoots } from './shared-roots.js';
import { instantiate, mkPrelude } from '../test-support/derivations.js';

const SOCKET = '/nix/var/nix/daemon-socket/socket';
const env = { ...process.env, NIX_REMOTE: 'daemon' };

/** Realises a fresh one-line derivation in the machine's store; returns its output. */
function realise(name: string): string {
  const nonce = randomBytes(4).toString('hex');
  const { x } = instantiate(
    `let ${mkPrelude(nonce)} in { x = mk { name = "${name}"; args = [ "-c" "echo ${nonce} > $out" ]; }; }`,
    ['x'],
  );
  return execFileSync('nix-store', ['--realise', x!], { env, encoding: 'utf8' }).trim();
}

/** Whether the garbage collector may delete `path` now (it does, when it may). */
function deletable(path: string): boolean {
  try {
    execFileSync('nix-store', ['--delete', path], { env, stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Polls until `path` can be deleted (the daemon drops roots when its worker for the connection exits). */
async function eventuallyDeleted(path: string): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    if (deletable(path)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

describe('SharedTempRoots', () => {
  it('holds a path while a build of its generation holds it, and drops it when the generation closes', async () => {
    const shared = new SharedTempRoots(SOCKET, 60_000);
    const [a, b] = [realise('shared-roots-a'), realise('shared-roots-b')];
    const first = shared.acquire();
    const second = shared.acquire();
    await first.add(a);
    await second.add(b);
    first.release();
    expect(deletable(a)).toBe(false); // same connection: alive while the generation lives
    second.release();
    expect(deletable(b)).toBe(false); // idle but young: kept for the next builds
    shared.close();
    expect(await eventuallyDeleted(a)).toBe(true);
    expect(await eventuallyDeleted(b)).toBe(true);
  });

  it('starts a new generation once the current one is too old, and closes the old one when its builds are done', async () => {
    const shared = new SharedTempRoots(SOCKET, 100);
    const [old, young] = [realise('shared-roots-old'), realise('shared-roots-young')];
    const early = shared.acquire();
    await early.add(old);
    await new Promise((r) => setTimeout(r, 150));
    const late = shared.acquire(); // a new generation: the early one retires
    await late.add(young);
    expect(deletable(old)).toBe(false); // its build still holds it
    early.release();
    expect(await eventuallyDeleted(old)).toBe(true);
    expect(deletable(young)).toBe(false);
    late.release(); // idle and already old: closes at once
    expect(await eventuallyDeleted(young)).toBe(true);
  });
});
