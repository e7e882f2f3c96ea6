// Result delivery against a real coordinator over HTTP, with builds submitted
// and allocated to the agent as in a farm: results reach the coordinator and
// leave the state file; through an outage they are retried; a hard stop
// during one keeps them in the state file for the next run.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { CoordinatorLink } from './coordinator-link.js';
import { ResultDelivery } from './result-delivery.js';
import { StateFile } from './state-file.js';
import { defaultSystem } from './system.js';
import { systemTimers } from './timers.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let stateDir: string;
let messages: string[];

const teardown = new Teardown();

beforeAll(async () => {
  coord = await teardown.add(startTestCoordinator(), (c) => c.close());
}, 60_000);

afterAll(() => teardown.run());

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'gbc-agent-delivery-'));
  messages = [];
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

// A build failure ends the build: an infrastructure failure would put it back in the queue for the next test.
const failure = { result: 'build-failure', message: 'delivered by the delivery test' } as const;

/** A new agent, with one build submitted and allocated to it. */
async function agentHoldingABuild(hardStop = new AbortController().signal) {
  const nonce = randomBytes(4).toString('hex');
  const { drv } = instantiate(
    `let ${mkPrelude(nonce)} in { drv = mk { name = "delivered"; args = [ "-c" "echo > $out" ]; }; }`,
    ['drv'],
  );
  const build = await submit(coord.client, drv!);
  const creds = await coord.addAgent(`delivery-${nonce}`);
  const state = new StateFile(stateDir);
  await state.load();
  const link = linkOf(creds, state, hardStop);
  const got = await link.client.fetchBuilds({ count: 1, systems: [defaultSystem()], closures: 'none' });
  expect(got.builds.map((b) => b.uuid)).toEqual([build]);
  const delivery = new ResultDelivery({ link, state, hardStop, log: logInto(messages) });
  return { build, state, creds, delivery };
}

/** The link of a run of the agent `creds`. */
function linkOf(creds: { uuid: string; password: string }, state: StateFile, hardStop: AbortSignal) {
  return new CoordinatorLink({
    coordinatorUrl: coord.agentUrl,
    credentials: { primary: { agent: creds.uuid, password: creds.password } },
    state,
    timers: systemTimers,
    retry: { baseMs: 20, maxMs: 100 },
    hardStop,
    log: logInto(messages),
  });
}

/** Delivery for a new run of the agent `creds` on the state file as it is on disk. */
async function nextRun(creds: { uuid: string; password: string }): Promise<ResultDelivery> {
  const state = new StateFile(stateDir);
  await state.load();
  const hardStop = new AbortController().signal;
  return new ResultDelivery({
    link: linkOf(creds, state, hardStop),
    state,
    hardStop,
    log: logInto(messages),
  });
}

/** A log into `list` (this test's messages: a run a failed test left going writes into its own). */
function logInto(list: string[]) {
  return (message: string): void => void list.push(message);
}

/** What the state file on disk holds now. */
async function pendingOnDisk(): Promise<string[]> {
  return (await new StateFile(stateDir).load()).pendingResults.map((p) => p.build);
}

/** Waits until the state file on disk holds `build`'s result (written beside the first send). */
async function recorded(build: string): Promise<void> {
  for (let i = 0; !(await pendingOnDisk()).includes(build); i++) {
    if (i > 2400) throw new Error(`the result of ${build} never reached the state file`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls `cond` (bounded: only a hang fails it). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 2400) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('result delivery', () => {
  it('delivers a recorded result, listing the build as held until the coordinator took it', async () => {
    const { build, delivery } = await agentHoldingABuild();
    const delivered = delivery.recordAndDeliver(build, failure);
    expect(delivery.inFlight()).toEqual([build]);
    await delivered;
    expect(delivery.inFlight()).toEqual([]);
    expect(messages).toEqual(['result delivered']);
    const done = await coord.client.getBuild(build);
    expect(done.attempts.map((a) => a.result)).toEqual(['build-failure']);
    expect(await pendingOnDisk()).toEqual([]);
  });

  it('logs a result the coordinator refuses, and forgets it', async () => {
    const { build, delivery } = await agentHoldingABuild();
    await delivery.recordAndDeliver(build, failure);
    await delivery.recordAndDeliver(build, { result: 'canceled' }); // the attempt is over
    expect(messages).toEqual(['result delivered', 'result refused']);
    expect(await pendingOnDisk()).toEqual([]);
  });

  it('settles a delivered result even when the state file cannot be rewritten, and keeps it there', async () => {
    const { build, delivery, state } = await agentHoldingABuild();
    await state.addPending({ build, result: failure });
    // The next rewrite of the state file fails for real: its temporary name is taken by a directory.
    const blocker = `${state.path}.${process.pid}.tmp`;
    mkdirSync(blocker);
    try {
      await delivery.deliver(build, failure); // resolves: never a lost rejection
    } finally {
      rmSync(blocker, { recursive: true });
    }
    expect(messages).toEqual(['result delivered', 'result settled but still in the state file']);
    expect(await pendingOnDisk()).toEqual([build]); // offered again at the next start
  });

  it('delivers the results a previous run left in the state file', async () => {
    const { build, state, creds } = await agentHoldingABuild();
    await state.addPending({ build, result: failure });
    await (await nextRun(creds)).deliverKept();
    expect(messages).toEqual(['result delivered']);
    expect((await coord.client.getBuild(build)).attempts.map((a) => a.result)).toEqual(['build-failure']);
    expect(await pendingOnDisk()).toEqual([]);
  });

  it('retries through an outage and delivers once the coordinator is back', async () => {
    const { build, delivery } = await agentHoldingABuild();
    await coord.stop();
    const order: string[] = [];
    const delivered = delivery.recordAndDeliver(build, failure).then(() => order.push('delivered'));
    try {
      await until(() => messages.includes('coordinator call failed, retrying'), 'a retry');
      expect(delivery.inFlight()).toEqual([build]);
      await recorded(build);
    } finally {
      order.push('restarted');
      await coord.start();
    }
    await delivered;
    expect(order).toEqual(['restarted', 'delivered']);
    expect(messages.at(-1)).toBe('result delivered');
    expect(await pendingOnDisk()).toEqual([]);
  });

  it('on a hard stop during an outage, tries once more and keeps the result for the next run', async () => {
    const hardStop = new AbortController();
    const { build, delivery, creds } = await agentHoldingABuild(hardStop.signal);
    await coord.stop();
    try {
      const delivered = delivery.recordAndDeliver(build, failure);
      await until(() => messages.includes('coordinator call failed, retrying'), 'a retry');
      hardStop.abort('stopping');
      await delivered;
      expect(delivery.inFlight()).toEqual([]);
      expect(messages).not.toContain('result delivered');
      expect(messages).not.toContain('result refused');
      await recorded(build);
    } finally {
      await coord.start();
    }
    // The next run delivers it.
    await (await nextRun(creds)).deliverKept();
    expect(messages.at(-1)).toBe('result delivered');
    expect(await pendingOnDisk()).toEqual([]);
  });
});
