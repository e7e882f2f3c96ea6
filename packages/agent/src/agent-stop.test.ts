// Stopping: the grace period between the graceful and the hard stop (on
// timers the test drives), and an agent whose run fails ending without a stop
// (a real agent refused by a real coordinator, on a private nix-daemon).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProtocolError } from '@gbc/protocol';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { AgentStop } from './agent-stop.js';
import type { AgentTimers } from './timers.js';
import { Teardown } from '../test-support/teardown.js';

/** Timers whose sleeps end only when the test ends them (or their signal aborts). */
function heldTimers() {
  const sleeps: { ms: number; end: () => void }[] = [];
  const timers: AgentTimers = {
    now: () => 0,
    random: () => 0.5,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(new Error(String(signal.reason)));
          return;
        }
        signal?.addEventListener('abort', () => reject(new Error(String(signal.reason))), { once: true });
        sleeps.push({ ms, end: resolve });
      }),
  };
  return { timers, sleeps };
}

describe('the grace period', () => {
  it('starts at the graceful stop and ends in the hard stop', async () => {
    const stop = new AgentStop();
    const { timers, sleeps } = heldTimers();
    const timer = stop.graceTimer(5_000, timers);
    await Promise.resolve();
    expect(sleeps).toEqual([]); // no stop yet: no grace period running
    stop.stop(true);
    expect(stop.stopping.aborted).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(sleeps.map((s) => s.ms)).toEqual([5_000]);
    expect(stop.hardStop.aborted).toBe(false);
    sleeps[0]!.end();
    await timer;
    expect(stop.hardStop.aborted).toBe(true);
    expect(stop.hardStop.reason).toBe('stopping');
  });

  it('counts a stop that came before the timer started', async () => {
    const stop = new AgentStop();
    stop.stop();
    const { timers, sleeps } = heldTimers();
    const timer = stop.graceTimer(1_000, timers);
    await new Promise((r) => setImmediate(r));
    expect(sleeps.map((s) => s.ms)).toEqual([1_000]);
    sleeps[0]!.end();
    await timer;
    expect(stop.hardStop.aborted).toBe(true);
  });

  it('is cut short by a second, forceful stop', async () => {
    const stop = new AgentStop();
    const { timers, sleeps } = heldTimers();
    const timer = stop.graceTimer(60_000, timers);
    stop.stop(true);
    await new Promise((r) => setImmediate(r));
    expect(sleeps).toHaveLength(1);
    stop.stop(false);
    await timer; // ends without the sleep ending
    expect(stop.hardStop.aborted).toBe(true);
  });

  it('ends on a hard stop that comes without any stop (a run that failed)', async () => {
    const stop = new AgentStop();
    const { timers, sleeps } = heldTimers();
    const timer = stop.graceTimer(60_000, timers);
    stop.stopHard();
    await timer;
    expect(sleeps).toEqual([]);
    expect(stop.stopping.aborted).toBe(false);
  });
});

describe('an agent whose run fails', () => {
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

  it('ends with the error, without waiting for a stop', async () => {
    const creds = await coord.addAgent('refused');
    const agent = runAgent({
      coordinatorUrl: coord.agentUrl,
      uuid: creds.uuid,
      password: `${creds.password}-but-wrong`,
      daemonSocket: daemon.socket,
    });
    try {
      const failed = await agent.done.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isProtocolError(failed, 'unauthorized')).toBe(true);
    } finally {
      agent.agent.stop(false);
      await agent.done.catch(() => undefined);
      rmSync(agent.stateDir, { recursive: true, force: true });
    }
  });
});
