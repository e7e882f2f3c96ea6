// An output upload cut by the network half-way is resumed from the bytes the
// coordinator holds (`?offset=`), and the coordinator accepts the whole NAR.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildDaemon, encodeNix32, decodeBase16 } from '@gbc/store';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { startCuttingProxy } from '../test-support/cutting-proxy.js';
import type { CuttingProxy } from '../test-support/cutting-proxy.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let daemon: PrivateDaemon;
let proxy: CuttingProxy;
const teardown = new Teardown();

beforeAll(async () => {
  [coord, daemon] = await Promise.all([
    teardown.add(startTestCoordinator(), (c) => c.close()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
  ]);
  proxy = await teardown.add(startCuttingProxy(coord.agentUrl, 1 << 20), (p) => p.close());
}, 60_000);

afterAll(() => teardown.run());

describe('an interrupted output upload', () => {
  it('resumes at the offset the coordinator reports and is accepted whole', async () => {
    const creds = await coord.addAgent('resumer');
    const nonce = randomBytes(4).toString('hex');
    // 4 MiB of random bytes: compression cannot shrink it below the cut.
    const { big } = instantiate(
      `let ${mkPrelude(nonce)} in { big = mk { name = "big-output"; args = [ "-c" "head -c 4194304 /dev/urandom > $out" ]; }; }`,
      ['big'],
    );
    const build = await submit(coord.client, big!);
    const agent = runAgent({
      coordinatorUrl: proxy.url,
      uuid: creds.uuid,
      password: creds.password,
      daemonSocket: daemon.socket,
      uploadCompression: 'none',
    });
    const done = await coord.waitFor(
      build,
      (b) => b.state === 'succeeded' || b.state === 'failed',
      'finished',
    );
    await agent.stop();
    expect(done.state).toBe('succeeded');
    expect(proxy.cut()).toBe(true);
    expect(done.attempts.map((a) => a.result)).toEqual(['success']); // resumed, not rebuilt
    const puts = proxy.requests.filter((r) => /^PUT \/build\/[^ ]*\/output\/out/.test(r));
    // The cut one, then resumed ones (a resume may race the coordinator still closing the cut one, and is asked again).
    expect(puts.length).toBeGreaterThanOrEqual(2);
    const offset = Number(/offset=(\d+)/.exec(puts.at(-1)!)?.[1] ?? '0');
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(4 << 20);
    expect(proxy.requests.some((r) => /\/output\/out\/progress/.test(r))).toBe(true);
    const d = createBuildDaemon({ socket: daemon.socket });
    try {
      const info = await d.queryPathInfo(done.outputs[0]!.path);
      expect(done.outputs[0]!.narHash).toBe(`sha256:${encodeNix32(decodeBase16(info!.narHash))}`);
      expect(done.outputs[0]!.narSize).toBe(info!.narSize);
    } finally {
      await d.close();
    }
  });
});
