// Status reports against a real coordinator over HTTP: the reconcile contract
// (the agent lists what it holds; the answer names what to abort), the
// operator's switch, and when the next report is due (on a clock the test
// moves, so no test waits for time to pass).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isProtocolError } from '@gbc/protocol';
import type { AllocatedBuild } from '@gbc/protocol';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { CoordinatorLink } from './coordinator-link.js';
import { HeldBuilds } from './held-builds.js';
import { StateFile } from './state-file.js';
import { BUSY_STATUS_INTERVAL_MS, StatusReporter } from './status-reporter.js';
import type { StatusReporterOptions } from './status-reporter.js';
import { defaultSystem } from './system.js';
import { systemTimers } from './timers.js';
import { Teardown } from '../test-support/teardown.js';

/** Leases of 90 s: a third (30 s) is shorter than the idle pace (60 s), longer than the busy one. */
const LEASE_SECONDS = 90;

let coord: TestCoordinator;
let stateDir: string;

const teardown = new Teardown();

beforeAll(async () => {
  coord = await teardown.add(startTestCoordinator(LEASE_SECONDS), (c) => c.close());
}, 60_000);

afterAll(() => teardown.run());

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'gbc-agent-status-'));
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

/** A clock the test moves by hand. */
function manualClock() {
  let now = 1_000_000;
  return {
    timers: { ...systemTimers, now: () => now },
    advance: (ms: number) => void (now += ms),
  };
}

/** A new agent with `count` builds submitted and allocated to it, its held builds, and a reporter. */
async function agentWith(count: number, extra: Partial<StatusReporterOptions> = {}) {
  const nonce = randomBytes(4).toString('hex');
  const attrs = Array.from({ length: count }, (_, i) => `b${i}`);
  const drvs = instantiate(
    `let ${mkPrelude(nonce)} in { ${attrs.map((a) => `${a} = mk { name = "reported-${a}"; args = [ "-c" "echo > $out" ]; };`).join(' ')} }`,
    attrs,
  );
  const builds: string[] = [];
  for (const a of attrs) builds.push(await submit(coord.client, drvs[a]!));
  const creds = await coord.addAgent(`status-${nonce}`);
  const link = new CoordinatorLink({
    coordinatorUrl: coord.agentUrl,
    credentials: { primary: { agent: creds.uuid, password: creds.password } },
    state: new StateFile(stateDir),
    timers: systemTimers,
    retry: { baseMs: 20, maxMs: 100 },
    hardStop: new AbortController().signal,
    log: () => undefined,
  });
  const got =
    count === 0 ? [] : (await link.client.fetchBuilds({ count, systems: [defaultSystem()] })).builds;
  expect(got.map((b) => b.uuid).sort()).toEqual([...builds].sort());
  const held = new HeldBuilds(
    () => undefined,
    () => undefined,
  );
  const clock = manualClock();
  const stopping = new AbortController();
  const reporter = new StatusReporter({
    link,
    held,
    delivering: () => [],
    systems: [defaultSystem()],
    stateDir,
    pollIntervalMs: 500,
    timers: clock.timers,
    stopping: stopping.signal,
    ...extra,
  });
  return { agent: creds.uuid, allocated: got, held, reporter, clock, stopping };
}

/** Holds `build` until it is aborted; the reason lands in `reasons`. */
function hold(held: HeldBuilds, build: AllocatedBuild | string, reasons: Map<string, unknown>): void {
  const allocated = typeof build === 'string' ? { ...placeholder, uuid: build } : build;
  held.start(
    allocated,
    (b, signal) =>
      new Promise<void>((resolve) =>
        signal.addEventListener(
          'abort',
          () => {
            reasons.set(b.uuid, signal.reason);
            resolve();
          },
          { once: true },
        ),
      ),
  );
}

/** An allocation the coordinator never made (for a build the agent wrongly thinks it holds). */
const placeholder: AllocatedBuild = {
  uuid: randomUUID(),
  attempt: randomUUID(),
  derivation: '/nix/store/00000000000000000000000000000000-never.drv',
  system: defaultSystem(),
  priority: 0,
  tags: [],
  timeoutSeconds: null,
  maxSilentTimeSeconds: null,
  leaseExpiresAt: new Date(0).toISOString(),
};

describe('status reports', () => {
  it('list the held builds and the results on their way, and the coordinator records them', async () => {
    const delivering: string[] = [];
    const { agent, allocated, held, reporter } = await agentWith(2, { delivering: () => delivering });
    const reasons = new Map<string, unknown>();
    hold(held, allocated[0]!, reasons);
    delivering.push(allocated[1]!.uuid);
    await reporter.reportIfDue();
    const status = (await coord.client.getAgent(agent)).status;
    expect([...(status?.builds ?? [])].sort()).toEqual(allocated.map((b) => b.uuid).sort());
    expect(reasons.size).toBe(0); // both are the agent's
    held.abortAll('stopping');
    await held.settled();
  });

  it('abort a canceled build as canceled, and one the coordinator does not give the agent as lease-lost', async () => {
    const { allocated, held, reporter } = await agentWith(1);
    const reasons = new Map<string, unknown>();
    const notOurs = randomUUID();
    hold(held, allocated[0]!, reasons);
    hold(held, notOurs, reasons);
    await coord.client.cancelBuild(allocated[0]!.uuid);
    await reporter.reportIfDue();
    await held.settled();
    expect(Object.fromEntries(reasons)).toEqual({
      [allocated[0]!.uuid]: 'canceled',
      [notOurs]: 'lease-lost',
    });
  });

  it('pass a refusal on: an agent an operator deactivated is refused, and stays due', async () => {
    const { agent, reporter } = await agentWith(0);
    await coord.client.setAgentActive(agent, false);
    try {
      const refused = await reporter.reportIfDue().catch((error: unknown) => error);
      expect(isProtocolError(refused, 'unauthorized')).toBe(true);
      expect(reporter.dueInMs()).toBeLessThanOrEqual(0);
    } finally {
      await coord.client.setAgentActive(agent, true);
    }
    await reporter.reportIfDue();
    expect(reporter.active).toBe(true);
  });

  it('come at the busy pace while builds are held, and at a third of the lease when idle', async () => {
    const { allocated, held, reporter, clock } = await agentWith(1);
    await reporter.reportIfDue();
    expect(reporter.intervalMs).toBe((LEASE_SECONDS * 1000) / 3);
    expect(reporter.dueInMs()).toBe((LEASE_SECONDS * 1000) / 3);
    // Builds fetched: the next report is due at the busy pace, not the idle one.
    const reasons = new Map<string, unknown>();
    hold(held, allocated[0]!, reasons);
    reporter.busy();
    expect(reporter.dueInMs()).toBe(BUSY_STATUS_INTERVAL_MS);
    clock.advance(BUSY_STATUS_INTERVAL_MS);
    await reporter.reportIfDue();
    expect(reporter.intervalMs).toBe(BUSY_STATUS_INTERVAL_MS);
    // A failed call: again within the poll interval.
    reporter.unreachable();
    expect(reporter.dueInMs()).toBe(500);
    held.abortAll('stopping');
    await held.settled();
  });

  it('are sent only when due, except the first after the stop, which says the agent drains', async () => {
    const { allocated, held, reporter, clock, stopping } = await agentWith(1);
    const reasons = new Map<string, unknown>();
    hold(held, allocated[0]!, reasons);
    await reporter.reportIfDue();
    await coord.client.cancelBuild(allocated[0]!.uuid);
    clock.advance(reporter.dueInMs() - 1);
    await reporter.reportIfDue(); // not due: nothing sent, the cancel not learnt
    expect(reasons.size).toBe(0);
    stopping.abort('stopping');
    await reporter.reportIfDue(); // sent at once
    await held.settled();
    expect(Object.fromEntries(reasons)).toEqual({ [allocated[0]!.uuid]: 'canceled' });
  });

  it('use a fixed interval when one is given', async () => {
    const { reporter } = await agentWith(0, { statusIntervalMs: 250 });
    expect(reporter.intervalMs).toBe(250);
    await reporter.reportIfDue();
    expect(reporter.dueInMs()).toBe(250);
    reporter.busy();
    expect(reporter.dueInMs()).toBe(250);
  });
});
