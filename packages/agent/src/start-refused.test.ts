// The agent reports a build's start while the daemon begins building. When
// the coordinator refuses that start (here a proxy answers 409, as the
// coordinator does for an attempt that ended), the daemon build stops at once
// instead of running to its end: this one would never end by itself.
import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let daemon: PrivateDaemon;
let proxy: Server;
let proxyUrl: string;
const refused: string[] = [];
const teardown = new Teardown();

beforeAll(async () => {
  [coord, daemon] = await Promise.all([
    teardown.add(startTestCoordinator(), (c) => c.close()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
  ]);
  const target = new URL(coord.agentUrl);
  // Passes every request through, but refuses build starts like an ended attempt.
  proxy = createServer((req, res) => {
    if (req.method === 'POST' && /\/report-build-start$/.test(req.url ?? '')) {
      refused.push(req.url!);
      req.resume();
      res.writeHead(409, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'conflict', message: 'the attempt already ended (test)' } }));
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  teardown.defer(() => new Promise<void>((r) => proxy.close(() => r())));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
}, 60_000);

afterAll(() => teardown.run());

it('stops the daemon build at once when the coordinator refuses its start', async () => {
  const nonce = randomBytes(4).toString('hex');
  const { endless } = instantiate(
    `let ${mkPrelude(nonce)} in { endless = mk { name = "start-refused"; args = [ "-c" "while true; do sleep 0.05; done" ]; }; }`,
    ['endless'],
  );
  const build = await submit(coord.client, endless!);
  const creds = await coord.addAgent('refused-start');
  const agent = runAgent({
    coordinatorUrl: proxyUrl,
    uuid: creds.uuid,
    password: creds.password,
    daemonSocket: daemon.socket,
    statusIntervalMs: 100,
  });
  try {
    for (let i = 0; refused.length === 0; i++) {
      if (i > 1200) throw new Error('the agent never reported the start');
      await new Promise((r) => setTimeout(r, 25));
    }
    // The builder never ends by itself: the agent letting go of it at all is the outcome;
    // the bound (generous, for a busy machine) only turns a hang into a failure.
    for (let i = 0; agent.agent.held.size > 0; i++) {
      if (i > 2400) throw new Error('the agent still holds the build a minute after its start was refused');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(refused[0]).toContain(build);
  } finally {
    await agent.stop();
  }
}, 120_000);
