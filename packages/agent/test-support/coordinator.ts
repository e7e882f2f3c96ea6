// Test support (not exported): a real coordinator (SQLite file, data
// directory) listening on loopback, which can be stopped and started again on
// the same ports and files, and agents registered through its client API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator, listen, silentLogger } from '@gbc/coordinator-server';
import type { Coordinator, Listening } from '@gbc/coordinator-server';
import { CoordinatorClient } from '@gbc/protocol';
import type { BuildDetail } from '@gbc/protocol';

/** A coordinator under test. */
export interface TestCoordinator {
  readonly dir: string;
  readonly agentUrl: string;
  readonly client: CoordinatorClient;
  current(): Coordinator;
  /** Stops listening and closes the datastore (as a crash or restart would). */
  stop(): Promise<void>;
  /** Starts again on the same files and ports. */
  start(): Promise<void>;
  /** Registers an agent; returns its uuid and password. */
  addAgent(name: string): Promise<{ uuid: string; password: string }>;
  /** Polls the build until `done(detail)` holds (bounded). */
  waitFor(build: string, done: (b: BuildDetail) => boolean, what: string): Promise<BuildDetail>;
  close(): Promise<void>;
}

/** Starts a coordinator with short leases (`leaseSeconds`) checked often. */
export async function startTestCoordinator(
  leaseSeconds = 300,
  storeDir = '/nix/store',
): Promise<TestCoordinator> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-coord-'));
  let coordinator: Coordinator | undefined;
  let listening: Listening | undefined;
  let agentUrl = 'http://127.0.0.1:0';
  let clientUrl = 'http://127.0.0.1:0';
  const start = async (): Promise<void> => {
    coordinator = await createCoordinator({
      databaseUri: `sqlite://${join(dir, 'gbc.db')}`,
      dataDir: join(dir, 'data'),
      cwd: dir,
      logger: silentLogger,
      leaseSeconds,
      leaseCheckIntervalMs: 200,
      client: { storeDir },
      cache: { storeDir },
    });
    await coordinator.start();
    listening = await listen(coordinator, { agentUrl, clientUrl });
    agentUrl = listening.agentUrl;
    clientUrl = listening.clientUrl;
  };
  await start();
  const client = new CoordinatorClient({ baseUrl: clientUrl });
  const stop = async (): Promise<void> => {
    await listening?.close();
    await coordinator?.stop();
    listening = undefined;
    coordinator = undefined;
  };
  return {
    dir,
    agentUrl,
    client,
    start,
    stop,
    current: () => {
      if (coordinator === undefined) throw new Error('the test coordinator is stopped');
      return coordinator;
    },
    async addAgent(name) {
      const res = await client.createAgent({ name });
      return { uuid: res.agent.uuid, password: res.password ?? '' };
    },
    async waitFor(build, done, what) {
      for (let i = 0; ; i++) {
        const b = await client.getBuild(build).catch(() => undefined);
        if (b !== undefined && done(b)) return b;
        if (i > 1200) throw new Error(`build ${build} never reached: ${what}; last: ${JSON.stringify(b)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
