// The fetch loop against a real coordinator over HTTP: builds fetched within
// the room, none once the daemon refused the agent's imports, while the load is
// too high or after a stop; an outage waited out, a refusal passed on. Builds
// run as test work the test ends by hand; turns are counted, never timed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isProtocolError } from '@gbc/protocol';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { CoordinatorLink } from './coordinator-link.js';
import { HeldBuilds } from './held-builds.js';
import type { BuildOps } from './run-build.js';
import { StateFile } from './state-file.js';
import { StatusReporter } from './status-reporter.js';
import { defaultSystem } from './system.js';
import { systemTimers } from './timers.js';
import { WorkFetcher } from './work-fetcher.js';
import type { WorkFetcherOptions } from './work-fetcher.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let stateDir: string;

const teardown = new Teardown();

beforeAll(async () => {
  coord = await teardown.add(startTestCoordinator(), (c) => c.close());
}, 60_000);

afterAll(() => teardown.run());

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'gbc-agent-fetch-'));
});

afterEach(async () => {
  rmSync(stateDir, { recursive: true, force: true });
  // A build the test work let go of goes back to the queue (the next report no longer lists it): none is left for the next test.
  await Promise.all(submitted.splice(0).map((b) => coord.client.cancelBuild(b).catch(() => undefined)));
});

/** The builds the running test submitted. */
const submitted: string[] = [];

/** Submits `count` builds; returns their uuids in order. */
async function submitBuilds(count: number): Promise<string[]> {
  const nonce = randomBytes(4).toString('hex');
  const attrs = Array.from({ length: count }, (_, i) => `b${i}`);
  const drvs = instantiate(
    `let ${mkPrelude(nonce)} in { ${attrs.map((a) => `${a} = mk { name = "fetched-${a}"; args = [ "-c" "echo > $out" ]; };`).join(' ')} }`,
    attrs,
  );
  const builds: string[] = [];
  for (const a of attrs) builds.push(await submit(coord.client, drvs[a]!, { priority: 100 - builds.length }));
  submitted.push(...builds);
  return builds;
}

/**
 * A fetch loop for a new agent, whose builds run until the test ends them
 * (`finish`); `turns` counts the loop's waits.
 */
async function fetcherFor(extra: Partial<WorkFetcherOptions> = {}) {
  const creds = await coord.addAgent(`fetcher-${randomBytes(4).toString('hex')}`);
  const messages: string[] = [];
  const log = (m: string): void => void messages.push(m);
  const stopping = new AbortController();
  const hardStop = new AbortController();
  let turns = 0;
  const timers = {
    ...systemTimers,
    sleep: (ms: number, signal?: AbortSignal) => {
      turns++;
      return systemTimers.sleep(ms, signal);
    },
  };
  const link = new CoordinatorLink({
    coordinatorUrl: coord.agentUrl,
    credentials: { primary: { agent: creds.uuid, password: creds.password } },
    state: new StateFile(stateDir),
    timers: systemTimers,
    retry: { baseMs: 20, maxMs: 100 },
    hardStop: hardStop.signal,
    log,
  });
  // The fetcher is made below; a build ends only after that.
  const held = new HeldBuilds(() => fetcher.wake(), log);
  const reporter = new StatusReporter({
    link,
    held,
    delivering: () => [],
    systems: [defaultSystem()],
    stateDir,
    statusIntervalMs: 20,
    pollIntervalMs: 20,
    timers,
    stopping: stopping.signal,
  });
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const fetcher = new WorkFetcher({
    link,
    held,
    reporter,
    // As the agent's own work does, a build ends by sending its result: until then the
    // coordinator still holds it allocated to this agent and offers it again.
    work: async (build) => {
      started.push(build.uuid);
      await new Promise<void>((resolve) => gates.set(build.uuid, resolve));
      await link.client.reportResult(build.uuid, { result: 'build-failure', message: 'ended by the test' });
    },
    buildOps: { basic: undefined } satisfies BuildOps,
    maxAllocatedBuilds: 1,
    maxLoad1: 10_000,
    systems: [defaultSystem()],
    pollIntervalMs: 20,
    timers,
    stopping: stopping.signal,
    hardStop: hardStop.signal,
    log,
    ...extra,
  });
  const finish = (build: string): void => gates.get(build)?.();
  return {
    agent: creds.uuid,
    fetcher,
    held,
    started,
    messages,
    finish,
    turns: () => turns,
    stop: () => stopping.abort('stopping'),
  };
}

/** Polls `cond` (bounded: only a hang fails it). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 2400) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the fetch loop', () => {
  it('fetches as many builds as there is room for, and the next as one ends', async () => {
    const builds = await submitBuilds(3);
    const f = await fetcherFor({ maxAllocatedBuilds: 2 });
    const running = f.fetcher.run();
    await until(() => f.started.length === 2, 'two builds started');
    const turnsThen = f.turns();
    await until(() => f.turns() >= turnsThen + 3, 'three more turns');
    expect(f.started).toEqual(builds.slice(0, 2)); // no room for the third
    f.finish(builds[0]!);
    await until(() => f.started.length === 3, 'the third started');
    expect(f.started).toEqual(builds);
    f.stop();
    f.finish(builds[1]!);
    f.finish(builds[2]!);
    await running;
    expect(f.held.size).toBe(0);
  });

  it('fetches nothing once the daemon refused the imports', async () => {
    const [build] = await submitBuilds(1);
    const f = await fetcherFor({
      buildOps: { basic: undefined, importsRefused: 'the key is not authorized' },
    });
    const running = f.fetcher.run();
    await until(() => f.turns() >= 3, 'three turns');
    f.stop();
    await running;
    expect(f.started).toEqual([]);
    expect((await coord.client.getBuild(build!)).state).toBe('queued');
  });

  it('fetches nothing while the load is above the limit, and says so', async () => {
    const [build] = await submitBuilds(1);
    const f = await fetcherFor({ maxLoad1: -1 });
    const running = f.fetcher.run();
    await until(() => f.turns() >= 3, 'three turns');
    f.stop();
    await running;
    expect(f.started).toEqual([]);
    expect(f.messages).toContain('load above the limit: fetching nothing');
    expect((await coord.client.getBuild(build!)).state).toBe('queued');
  });

  it('after a stop fetches nothing more, and ends once the held build ends', async () => {
    const [first, second] = await submitBuilds(2);
    const f = await fetcherFor({ maxAllocatedBuilds: 1 });
    const order: string[] = [];
    const running = f.fetcher.run().then(() => order.push('loop ended'));
    await until(() => f.started.length === 1, 'the first build started');
    f.stop();
    f.finish(first!);
    order.push('held build ended');
    await running;
    expect(order).toEqual(['held build ended', 'loop ended']);
    expect(f.started).toEqual([first]);
    expect((await coord.client.getBuild(second!)).state).toBe('queued');
  });

  it('waits out a coordinator outage and fetches once the coordinator is back', async () => {
    const [build] = await submitBuilds(1);
    const f = await fetcherFor();
    await coord.stop();
    let running: Promise<void> | undefined;
    try {
      running = f.fetcher.run();
      await until(() => f.messages.includes('coordinator unreachable'), 'the outage noticed');
      expect(f.started).toEqual([]);
    } finally {
      await coord.start();
    }
    await until(() => f.started.length === 1, 'the build started');
    expect(f.started).toEqual([build]);
    f.stop();
    f.finish(build!);
    await running;
  });

  it('ends with the error when the coordinator refuses the agent', async () => {
    const f = await fetcherFor();
    await coord.client.setAgentActive(f.agent, false);
    const failed = await f.fetcher.run().catch((error: unknown) => error);
    expect(isProtocolError(failed, 'unauthorized')).toBe(true);
  });
});
