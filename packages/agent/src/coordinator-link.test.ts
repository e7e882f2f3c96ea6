// The coordinator link against a real coordinator over HTTP: sessions kept in
// the state file, the switch from a refused stored session to the token, and
// calls retried through an outage until the coordinator is back or the agent
// stops hard.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isProtocolError } from '@gbc/protocol';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { CoordinatorLink } from './coordinator-link.js';
import type { CoordinatorLinkOptions } from './coordinator-link.js';
import { resolveCredentials } from './credentials.js';
import { StateFile } from './state-file.js';
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
  stateDir = mkdtempSync(join(tmpdir(), 'gbc-agent-link-'));
  messages = [];
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const idleReport = { load1: 0, builds: [] };

/** A link with fast retries; `state` and credentials as a test needs them. */
function linkWith(
  state: StateFile,
  credentials: CoordinatorLinkOptions['credentials'],
  hardStop = new AbortController().signal,
): CoordinatorLink {
  return new CoordinatorLink({
    coordinatorUrl: coord.agentUrl,
    credentials,
    state,
    timers: systemTimers,
    retry: { baseMs: 20, maxMs: 100 },
    hardStop,
    log: (m) => messages.push(m),
  });
}

/** Polls `cond` (bounded: only a hang fails it). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 2400) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the coordinator link', () => {
  it('keeps a new dynamic-auth session in the state file, for this coordinator', async () => {
    const { token } = await coord.client.createDynamicAuthToken();
    const state = new StateFile(stateDir);
    const link = linkWith(state, { primary: { name: `link-${randomUUID()}`, token } });
    const agent = await link.client.agentId();
    await new StateFile(stateDir).load().then((kept) =>
      expect(kept.session).toEqual({
        agent,
        password: expect.any(String) as unknown,
        coordinator: coord.agentUrl,
      }),
    );
  });

  it('falls back to the token when the coordinator refuses the stored session', async () => {
    const { token } = await coord.client.createDynamicAuthToken();
    const state = new StateFile(stateDir);
    const forgotten = { agent: randomUUID(), password: 'a-session-the-coordinator-never-made' };
    await state.update((s) => ({ ...s, session: { ...forgotten, coordinator: coord.agentUrl } }));
    const credentials = await resolveCredentials(
      { name: `link-${randomUUID()}`, token },
      state,
      coord.agentUrl,
    );
    expect(credentials.primary).toEqual(forgotten);
    const link = linkWith(state, credentials);

    const refused = await link.client.reportStatus(idleReport).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isProtocolError(refused, 'unauthorized')).toBe(true);
    expect(link.fallBack(new Error('not a refusal'))).toBe(false);
    expect(link.fallBack(refused)).toBe(true);

    const answer = await link.client.reportStatus(idleReport);
    expect(answer.active).toBe(true);
    const newAgent = await link.client.agentId();
    expect(newAgent).not.toBe(forgotten.agent);
    expect(state.state.session?.agent).toBe(newAgent);
  });

  it('has no fallback for an agent with a password', async () => {
    const creds = await coord.addAgent(`link-${randomUUID()}`);
    const link = linkWith(new StateFile(stateDir), {
      primary: { agent: creds.uuid, password: `${creds.password}-wrong` },
    });
    const refused = await link.client.reportStatus(idleReport).catch((error: unknown) => error);
    expect(isProtocolError(refused, 'unauthorized')).toBe(true);
    expect(link.fallBack(refused)).toBe(false);
  });

  it('retries a call through an outage, and it succeeds once the coordinator is back', async () => {
    const creds = await coord.addAgent(`link-${randomUUID()}`);
    const link = linkWith(new StateFile(stateDir), {
      primary: { agent: creds.uuid, password: creds.password },
    });
    await coord.stop();
    const order: string[] = [];
    const call = link
      .call(() => link.client.reportStatus(idleReport))
      .then((answer) => {
        order.push('answered');
        return answer;
      });
    try {
      await until(
        () => messages.filter((m) => m === 'coordinator call failed, retrying').length >= 2,
        'two retries',
      );
    } finally {
      order.push('restarted');
      await coord.start();
    }
    const answer = await call;
    expect(order).toEqual(['restarted', 'answered']);
    expect(answer.leaseSeconds).toBeGreaterThan(0);
  });

  it('gives up a retried call with the reason of the hard stop, or of its own signal', async () => {
    const creds = await coord.addAgent(`link-${randomUUID()}`);
    const hardStop = new AbortController();
    const link = linkWith(
      new StateFile(stateDir),
      { primary: { agent: creds.uuid, password: creds.password } },
      hardStop.signal,
    );
    await coord.stop();
    try {
      const own = new AbortController();
      const mine = link.call(() => link.client.reportStatus(idleReport), own.signal);
      const other = link.call(() => link.client.reportStatus(idleReport));
      await until(() => messages.includes('coordinator call failed, retrying'), 'a retry');
      own.abort('build-aborted');
      await expect(mine).rejects.toBe('build-aborted');
      expect(hardStop.signal.aborted).toBe(false);
      hardStop.abort('stopping');
      await expect(other).rejects.toBe('stopping');
    } finally {
      await coord.start();
    }
  });
});
