// A coordinator that goes away while an agent fetches a build's inputs: the
// agent retries until it is back and builds, instead of reporting the input
// missing (a spurious failed attempt). The coordinator is a real one, stopped
// at the moment its narinfo is asked for (through a proxy that holds the
// request), and started again on the same database.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { startCuttingProxy } from '../test-support/cutting-proxy.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let daemon: PrivateDaemon;

const teardown = new Teardown();

beforeAll(async () => {
  [coord, daemon] = await Promise.all([
    teardown.add(startTestCoordinator(), (c) => c.close()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
  ]);
}, 60_000);

afterAll(() => teardown.run());

/** Polls `cond` (bounded). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 2400) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a coordinator outage during set-up', () => {
  it('is retried until the coordinator is back, never reported as a missing input', async () => {
    const nonce = randomBytes(4).toString('hex');
    const { drv } = instantiate(
      `let ${mkPrelude(nonce)}
  src = builtins.toFile "outage-src-${nonce}" "fetched after the outage ${nonce}";
in { drv = mk { name = "outage"; args = [ "-c" "cat \${src} > $out" ]; }; }`,
      ['drv'],
    );
    const build = await submit(coord.client, drv!);
    const creds = await coord.addAgent(`outage-${nonce}`);
    // The first narinfo request stops the coordinator before it fails.
    const proxy = await startCuttingProxy(coord.agentUrl, 0, /GET \/[0-9a-z]{32}\.narinfo /, () =>
      coord.stop(),
    );
    const agent = runAgent({
      coordinatorUrl: proxy.url,
      uuid: creds.uuid,
      password: creds.password,
      daemonSocket: daemon.socket,
    });
    try {
      await until(() => proxy.cut(), 'the narinfo request');
      // Retrying while the coordinator is down: at least two failed tries after the cut.
      const failedBefore = agent.messages.filter((m) => m === 'coordinator call failed, retrying').length;
      await until(
        () =>
          agent.messages.filter((m) => m === 'coordinator call failed, retrying').length >= failedBefore + 2,
        'retries during the outage',
      );
      expect(agent.messages).not.toContain('setup failure');
      await coord.start();
      const done = await coord.waitFor(
        build,
        (b) => b.state === 'succeeded' || b.state === 'failed',
        'built after the outage',
      );
      expect(done.state).toBe('succeeded');
      expect(done.attempts.map((a) => a.result)).toEqual(['success']);
      expect(readFileSync(join(daemon.root, done.outputs[0]!.path), 'utf8')).toBe(
        `fetched after the outage ${nonce}`,
      );
      expect(agent.messages).not.toContain('setup failure');
      // The narinfo was asked for again after the cut, through the proxy.
      expect(proxy.requests.filter((r) => /\.narinfo /.test(r)).length).toBeGreaterThanOrEqual(2);
    } finally {
      // Forceful: a failing run may leave the agent retrying against a stopped coordinator.
      await agent.stop(false);
      await proxy.close();
    }
  });
});
