// A build log streamed by LogStream arrives whole and once, though the
// coordinator restarts in the middle of it or the network cuts its request:
// the stored log equals exactly the lines produced, and the spool is removed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AgentClient } from '@gbc/protocol';
import { LogStream } from './log-stream.js';
import { withRetry } from './retry.js';
import { defaultSystem } from './system.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { startCuttingProxy } from '../test-support/cutting-proxy.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { systemTimers } from './timers.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let spoolDir: string;
const teardown = new Teardown();

beforeAll(async () => {
  coord = await teardown.add(startTestCoordinator(), (c) => c.close());
  spoolDir = mkdtempSync(join(tmpdir(), 'gbc-log-spool-'));
}, 60_000);

afterAll(async () => {
  await teardown.run();
  rmSync(spoolDir, { recursive: true, force: true });
});

const retrying = <T>(fn: () => Promise<T>): Promise<T> =>
  withRetry(fn, systemTimers, { baseMs: 20, maxMs: 200 });
const lines = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `step ${from + i} ${'x'.repeat(60)}`);

/** A build held by a new agent on the coordinator at `agentUrl`, and that agent's client. */
async function heldBuild(agentUrl: string): Promise<{ build: string; client: AgentClient }> {
  const creds = await coord.addAgent(`logger-${randomBytes(3).toString('hex')}`);
  const nonce = randomBytes(4).toString('hex');
  const { quiet } = instantiate(
    `let ${mkPrelude(nonce)} in { quiet = mk { name = "logged"; args = [ "-c" "echo > $out" ]; }; }`,
    ['quiet'],
  );
  const build = await submit(coord.client, quiet!);
  const client = new AgentClient({
    baseUrl: agentUrl,
    credentials: { agent: creds.uuid, password: creds.password },
  });
  const { builds } = await client.fetchBuilds({ count: 1, systems: [defaultSystem()] });
  expect(builds.map((b) => b.uuid)).toEqual([build]);
  return { build, client };
}

async function storedLog(build: string): Promise<string> {
  return new Response(await coord.client.buildLog(build)).text();
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i > 400) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('LogStream', () => {
  it('loses and repeats no line across a coordinator restart in the middle of the log', async () => {
    // A proxy that cuts nothing, to see the requests.
    const proxy = await startCuttingProxy(coord.agentUrl, Number.POSITIVE_INFINITY);
    onTestFinished(() => proxy.close());
    const { build, client } = await heldBuild(proxy.url);
    const log = new LogStream(client, build, retrying, spoolDir);
    const produced = lines(0, 3000);
    for (const l of produced.slice(0, 1000)) log.line(l);
    await until(
      async () => (await client.logUploadProgress(build)).bytesReceived > 0,
      'the first lines stored',
    );
    // More lines go out just before the stop: some are in flight when the request breaks.
    for (const l of produced.slice(1000, 2000)) log.line(l);
    await coord.stop();
    for (const l of produced.slice(2000, 2500)) log.line(l);
    await coord.start();
    for (const l of produced.slice(2500)) log.line(l);
    await log.close();
    expect(await storedLog(build)).toBe(produced.map((l) => `${l}\n`).join(''));
    expect(readdirSync(spoolDir)).toEqual([]);
    // Resent from the bytes the restarted coordinator holds, not from the start.
    expect(proxy.requests.some((r) => /^PUT \/build\/[^ ]*\/log\?offset=[1-9]/.test(r))).toBe(true);
  }, 60_000);

  it('loses and repeats no line when the network cuts the live request', async () => {
    const proxy = await startCuttingProxy(coord.agentUrl, 50_000, /PUT \/build\/[^ ]*\/log/);
    try {
      const { build, client } = await heldBuild(proxy.url);
      const log = new LogStream(client, build, retrying, spoolDir);
      const produced = lines(0, 4000);
      for (const l of produced.slice(0, 2000)) log.line(l);
      await until(() => Promise.resolve(proxy.cut()), 'the live request cut');
      for (const l of produced.slice(2000)) log.line(l);
      await log.close();
      expect(await storedLog(build)).toBe(produced.map((l) => `${l}\n`).join(''));
      // Sent again from what the coordinator held when asked (it may still have been storing the cut body: it skips those bytes).
      const puts = proxy.requests.filter((r) => r.startsWith(`PUT /build/${build}/log?offset=`));
      expect(puts.length).toBeGreaterThanOrEqual(2);
      expect(proxy.requests.indexOf(`GET /build/${build}/log-progress HTTP/1.1`)).toBeGreaterThan(
        proxy.requests.indexOf(puts[0]!),
      );
      expect(readdirSync(spoolDir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('sends nothing for a build without output, and removes its spool', async () => {
    const { build, client } = await heldBuild(coord.agentUrl);
    await new LogStream(client, build, retrying, spoolDir).close();
    expect(readdirSync(spoolDir)).toEqual([]);
    await expect(coord.client.buildLog(build)).rejects.toMatchObject({ code: 'not-found' });
  });
});
