// /metrics on an address of its own (issue 19, item 7): on the agent port,
// which faces every agent and usually the network, its gauges list every
// agent's UUID (an agent's Basic user name) and name. With a metrics URL the
// agent port answers /metrics with 404 and the metrics port serves the
// metrics and nothing else; without one, the agent port serves them as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAgentStatus } from '@gbc/datastore';
import { createCoordinator, type Coordinator } from '../coordinator/create-coordinator.js';
import { listen, type Listening } from '../coordinator/listen.js';
import { silentLogger } from '../logger.js';
import { createTestPlace, makeAgent, type TestPlace } from '../agent-api/test-support.js';

describe('metrics on an address of their own', () => {
  let place: TestPlace;
  let apart: { c: Coordinator; listening: Listening };
  let together: { c: Coordinator; listening: Listening };
  let agent = '';
  beforeAll(async () => {
    place = createTestPlace('sqlite');
    const start = async (name: string, metricsUrl?: string) => {
      const c = await createCoordinator({
        databaseUri: `sqlite://${place.dir}/${name}.db`,
        dataDir: `${place.dir}/${name}`,
        cwd: place.dir,
        logger: silentLogger,
        ...(metricsUrl === undefined ? {} : { metricsUrl }),
      });
      await c.start();
      return {
        c,
        listening: await listen(c, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' }),
      };
    };
    apart = await start('apart', 'http://127.0.0.1:0');
    together = await start('together');
    for (const { c } of [apart, together]) {
      agent = (await makeAgent(c, 'secret-builder')).id;
      await recordAgentStatus(
        c.context.datastore.db,
        agent,
        { load1: 0.5, builds: [] },
        c.context.clock.now(),
      );
    }
  });
  afterAll(async () => {
    for (const { c, listening } of [apart, together]) {
      await listening.close();
      await c.stop();
    }
    place.remove();
  });

  it('leaves the agent port without /metrics and serves them on their own port only', async () => {
    expect(apart.listening.metricsUrl).toBeDefined();
    const onAgentPort = await fetch(`${apart.listening.agentUrl}/metrics`);
    expect(onAgentPort.status).toBe(404);
    expect(await onAgentPort.text()).not.toContain('secret-builder');
    const own = await fetch(`${apart.listening.metricsUrl!}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toMatch(/^gbc_agent_load\{.*name="secret-builder".*\} 0\.5$/m);
    // The metrics port is not a second agent port.
    expect(
      (await fetch(`${apart.listening.metricsUrl!}/agent/${agent}/status`, { method: 'PUT' })).status,
    ).toBe(404);
    expect((await fetch(`${apart.listening.metricsUrl!}/nix-cache-info`)).status).toBe(404);
  });

  it('serves them on the agent port when no metrics address is set', async () => {
    expect(together.listening.metricsUrl).toBeUndefined();
    expect(await (await fetch(`${together.listening.agentUrl}/metrics`)).text()).toContain(
      'name="secret-builder"',
    );
  });
});
