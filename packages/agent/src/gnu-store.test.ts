// The agent with Guix's store directory: derivations under /gnu/store, built
// by a nix-daemon serving a /gnu/store store (as guix-daemon would), inputs
// from the coordinator's cache.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

const GNU = '/gnu/store';
const scratch = mkdtempSync(join(tmpdir(), 'gbc-agent-gnu-'));
const store = { uri: `local?store=${GNU}&root=${join(scratch, 'client')}`, root: join(scratch, 'client') };
let coord: TestCoordinator;
let d1: PrivateDaemon;
let d2: PrivateDaemon;
const teardown = new Teardown();

beforeAll(async () => {
  [coord, d1, d2] = await Promise.all([
    teardown.add(startTestCoordinator(300, GNU), (c) => c.close()),
    teardown.add(startPrivateDaemon(GNU), (d) => d.stop()),
    teardown.add(startPrivateDaemon(GNU), (d) => d.stop()),
  ]);
}, 60_000);

afterAll(async () => {
  await teardown.run();
  rmSync(scratch, { recursive: true, force: true });
});

describe('an agent on a /gnu/store daemon', () => {
  it('builds a dependency on one machine and its dependent on another', async () => {
    const nonce = randomBytes(4).toString('hex');
    const drvs = instantiate(
      `let ${mkPrelude(nonce)}
  src = builtins.toFile "gnu-src-${nonce}" "guix source ${nonce}";
in rec {
  dep = mk { name = "gnu-dep"; args = [ "-c" "cat \${src} > $out; echo dep >> $out" ]; };
  top = mk { name = "gnu-top"; args = [ "-c" "cat \${dep} > $out; echo top >> $out" ]; };
}`,
      ['dep', 'top'],
      store,
    );
    expect(drvs.top).toMatch(/^\/gnu\/store\/[0-9a-z]{32}-gnu-top\.drv$/);
    const [c1, c2] = [await coord.addAgent('gnu-one'), await coord.addAgent('gnu-two')];
    const opts = (d: PrivateDaemon, c: { uuid: string; password: string }) => ({
      coordinatorUrl: coord.agentUrl,
      uuid: c.uuid,
      password: c.password,
      daemonSocket: d.socket,
      storeDir: GNU,
    });
    const dep = await submit(coord.client, drvs.dep!, { store });
    const first = runAgent(opts(d1, c1));
    expect(
      (
        await coord.waitFor(
          dep,
          (b) => b.state !== 'queued' && b.state !== 'allocated' && b.state !== 'started',
          'dep done',
        )
      ).state,
    ).toBe('succeeded');
    await first.stop();
    const top = await submit(coord.client, drvs.top!, { store });
    const second = runAgent(opts(d2, c2));
    const done = await coord.waitFor(
      top,
      (b) => b.state !== 'queued' && b.state !== 'allocated' && b.state !== 'started',
      'top done',
    );
    await second.stop();
    expect(done.state).toBe('succeeded');
    expect(done.outputs[0]!.path.startsWith(`${GNU}/`)).toBe(true);
    expect(readFileSync(join(d2.root, 'nix/store', basename(done.outputs[0]!.path)), 'utf8')).toBe(
      `guix source ${nonce}dep\ntop\n`,
    );
  });
});
