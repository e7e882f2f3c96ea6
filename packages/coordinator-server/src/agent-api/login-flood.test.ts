// A flood of wrong agent passwords (issue 19, item 1) against a real
// coordinator over real HTTP: agent UUIDs are public (in /metrics), so an
// attacker can send many bad logins for a real agent that has many
// passwords. A wrong password must cost the coordinator no scrypt at all
// (found by its sha256, nothing matches), past a few of them no check at all
// (429 from the per-agent limit), so the flood's CPU stays a small fraction
// of what one scrypt per stored password would cost, and the real agent's
// logins all succeed while it runs. (Its latency under the flood is a
// benchmark figure, in BENCHMARKS.md, not asserted here.)
import { scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentPassword } from '@gbc/datastore';
import { createCoordinator, type Coordinator } from '../coordinator/create-coordinator.js';
import type { Listening } from '../coordinator/listen.js';
import { createManualClock } from '../clock.js';
import { silentLogger } from '../logger.js';
import { makeAgent, startListening, type ListeningCoordinator } from './test-support.js';

const FLOOD = 200;

describe.each(['sqlite', 'postgres'] as const)('a flood of bad agent logins on %s', (dialect) => {
  let served: ListeningCoordinator;
  let c: Coordinator;
  let listening: Listening;
  // A verified password is trusted for 30 s by default: 0 makes every real login a fresh check.
  beforeAll(
    async () => ({ c, listening } = served = await startListening(dialect, { agentAuth: { cacheMs: 0 } })),
  );
  afterAll(() => served.close());

  it('costs no scrypt per wrong password, however many the agent has, and the real agent keeps logging in', async () => {
    const agent = await makeAgent(c, 'flooded');
    // Twenty stored passwords: a scan would run twenty scrypts per bad login.
    for (let i = 0; i < 19; i++) await createAgentPassword(c.context.datastore.db, agent.id);
    const status = (auth: string) =>
      fetch(`${listening.agentUrl}/agent/${agent.id}/status`, {
        method: 'PUT',
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ load1: 0, builds: [] }),
      }).then((r) => r.status);
    const bad = (i: number) =>
      `Basic ${Buffer.from(`${agent.id}:wrong-password-${i}-${'x'.repeat(30)}`).toString('base64')}`;

    // What one scrypt of the stored kind costs this process, measured here (CPU, not wall clock).
    const one = process.cpuUsage();
    scryptSync('a-password', 'a-salt-of-16-byte', 32, { N: 16384, r: 8, p: 1, maxmem: 256 * 16384 * 8 });
    const scryptMicros = process.cpuUsage(one).user;

    // The real agent has logged in before (as a running agent has): its credentials are known good.
    expect(await status(agent.auth)).toBe(200);
    const before = process.cpuUsage();
    const flood = Promise.all(Array.from({ length: FLOOD }, (_, i) => status(bad(i))));
    const real = await Promise.all(Array.from({ length: 5 }, () => status(agent.auth)));
    const codes = await flood;
    const floodMicros = process.cpuUsage(before).user;

    expect(real).toEqual([200, 200, 200, 200, 200]);
    expect([...new Set(codes)].sort()).toEqual([401, 429]);
    // Scanning would cost FLOOD x 20 scrypts; looking the password up, none. Allow a generous
    // margin for HTTP and database work: far below even one scrypt per bad login.
    expect(floodMicros).toBeLessThan(scryptMicros * FLOOD * 0.25);
  });

  it('refuses new credentials for a flooded agent with 429 and Retry-After until the block ends, then checks them again', async () => {
    const clock = createManualClock();
    const local = await createCoordinator({
      databaseUri: `sqlite://${c.context.config.cwd}/limits-${dialect}.db`,
      dataDir: `${c.context.config.cwd}/limits-data`,
      cwd: c.context.config.cwd,
      logger: silentLogger,
      clock,
      agentAuth: { cacheMs: 0, limits: { failures: 3, windowMs: 60_000, blockMs: 10_000 } },
    });
    await local.start();
    try {
      const agent = await makeAgent(local, 'limited');
      const put = (auth: string) =>
        local.agentApp.request(`/agent/${agent.id}/status`, {
          method: 'PUT',
          headers: { Authorization: auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({ load1: 0, builds: [] }),
        });
      const basic = (password: string) =>
        `Basic ${Buffer.from(`${agent.id}:${password}`).toString('base64')}`;
      const fresh = await createAgentPassword(local.context.datastore.db, agent.id);
      expect((await put(agent.auth)).status).toBe(200);
      for (let i = 0; i < 4; i++) expect((await put(basic(`wrong-${i}-${'x'.repeat(20)}`))).status).toBe(401);
      // Blocked: even a right password that never worked before is refused without a check...
      const refused = await put(basic(fresh));
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('10');
      // ...while the credentials that worked before go on working.
      expect((await put(agent.auth)).status).toBe(200);
      clock.advance(10_001);
      expect((await put(basic(fresh))).status).toBe(200);
    } finally {
      await local.stop();
    }
  });
});
