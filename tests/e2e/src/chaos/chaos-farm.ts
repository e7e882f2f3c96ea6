// Sets up the chaos run's farm and takes it down again: a temporary
// directory, a fresh database (a SQLite file, or a database of its own on
// GBC_TEST_POSTGRES_URI's server), the coordinator, one nix-daemon and one
// `gbc agent` per machine, and the graph instantiated and submitted.
// Whatever was started is stopped by `close()`, also when set-up fails halfway.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submitDerivations } from '@gbc/cli';
import { CoordinatorClient } from '@gbc/protocol';
import { startNixDaemon } from '../support/nix-daemon-process.js';
import { createPostgresDatabase } from '../support/postgres-database.js';
import { chaosAgent, type AgentSetup, type ChaosAgent, type UnexpectedExit } from './chaos-agents.js';
import { chaosCoordinator, freePort, type ChaosCoordinator } from './chaos-coordinator.js';
import { instantiateDag, type ChaosDag, type DagNode } from './chaos-dag.js';

/** What the farm is made of. */
export interface FarmShape {
  readonly database: 'sqlite' | 'postgres';
  readonly agents: number;
  readonly leaseSeconds: number;
  /** How often the coordinator looks for expired leases, ms. */
  readonly leaseCheckIntervalMs: number;
  /** How long a hook event claimed by a dead coordinator stays claimed, ms. */
  readonly hookLeaseMs: number;
  /** Keep the directory (logs, database) after `close()`, for a post-mortem. */
  readonly keepDir: boolean;
}

/** A running farm. */
export interface ChaosFarm {
  readonly dir: string;
  readonly dataDir: string;
  readonly hookRecord: string;
  readonly coordinator: ChaosCoordinator;
  readonly agents: readonly ChaosAgent[];
  /** The client API (its URL stays the same across restarts). */
  readonly client: CoordinatorClient;
  readonly agentUrl: string;
  readonly dag: ChaosDag;
  /** Build uuid → the node it builds. */
  readonly buildNodes: ReadonlyMap<string, DagNode>;
  /** Agent exits nobody asked for, in order. */
  readonly unexpectedExits: readonly UnexpectedExit[];
  /** Stops everything, drops the database and removes the directory; returns what did not stop cleanly. */
  close(): Promise<string[]>;
}

const COMPRESSIONS = ['zstd', 'gzip', 'none', 'lzip'] as const;

/** Starts the farm of `shape` and submits `nodes`; nothing is left running when it throws. */
export async function setUpFarm(shape: FarmShape, nodes: readonly DagNode[]): Promise<ChaosFarm> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-chaos-'));
  const closers: Array<() => Promise<string | undefined>> = [];
  const unexpectedExits: UnexpectedExit[] = [];
  const close = async (): Promise<string[]> => {
    const problems: string[] = [];
    for (const c of closers.reverse()) {
      const problem = await c().catch((error: unknown) => `while stopping: ${String(error)}`);
      if (problem !== undefined) problems.push(problem);
    }
    if (!shape.keepDir) rmSync(dir, { recursive: true, force: true });
    return problems;
  };
  try {
    let databaseUri = `sqlite://${join(dir, 'gbc.db')}`;
    if (shape.database === 'postgres') {
      const database = await createPostgresDatabase('gbc_chaos');
      closers.push(async () => {
        await database.drop();
        return undefined;
      });
      databaseUri = database.uri;
    }
    const [agentPort, clientPort] = [await freePort(), await freePort()];
    const hookRecord = join(dir, 'hook-record.jsonl');
    const coordinator = chaosCoordinator(dir, {
      databaseUri,
      dataDir: join(dir, 'data'),
      agentUrl: `http://127.0.0.1:${agentPort}`,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      leaseSeconds: shape.leaseSeconds,
      leaseCheckIntervalMs: shape.leaseCheckIntervalMs,
      hookLeaseMs: shape.hookLeaseMs,
      hookRecord,
    });
    closers.push(async () =>
      (await coordinator.stop()) ? undefined : 'the coordinator did not stop on SIGTERM',
    );
    const daemons = Array.from({ length: shape.agents }, (_, i) =>
      startNixDaemon(join(dir, `machine-${i}`), '/nix/store'),
    );
    for (const d of daemons)
      closers.push(async () => {
        await (await d.catch(() => undefined))?.stop();
        return undefined;
      });
    await Promise.all([coordinator.start(), ...daemons]);
    const client = new CoordinatorClient({ baseUrl: coordinator.launch.clientUrl });

    const agents: ChaosAgent[] = [];
    for (let i = 0; i < shape.agents; i++) {
      const created = await client.createAgent({ name: `chaos-agent-${i}` });
      if (created.password === null) throw new Error('createAgent answered no password');
      const passwordFile = join(dir, `agent-${i}.password`);
      writeFileSync(passwordFile, created.password, { mode: 0o600 });
      const setup: AgentSetup = {
        index: i,
        uuid: created.agent.uuid,
        passwordFile,
        daemonSocket: (await daemons[i]!).socket,
        stateDir: join(dir, `agent-${i}-state`),
        coordinatorUrl: coordinator.launch.agentUrl,
        compression: COMPRESSIONS[i % COMPRESSIONS.length]!,
      };
      const agent = chaosAgent(dir, setup, (exit) => unexpectedExits.push(exit));
      agents.push(agent);
      closers.push(async () =>
        (await agent.stop()) ? undefined : `agent ${i} did not stop on SIGTERM within 30 s`,
      );
    }

    const dag = instantiateDag(dir, nodes, randomUUID());
    const submitted = await submitDerivations(client, [...dag.drvs.values()]);
    const nodeOfDrv = new Map(nodes.map((n) => [dag.drvs.get(n.name)!, n]));
    const buildNodes = new Map(submitted.map((s) => [s.uuid, nodeOfDrv.get(s.derivation)!]));
    for (const agent of agents) agent.start();
    return {
      dir,
      dataDir: coordinator.launch.dataDir,
      hookRecord,
      coordinator,
      agents,
      client,
      agentUrl: coordinator.launch.agentUrl,
      dag,
      buildNodes,
      unexpectedExits,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
