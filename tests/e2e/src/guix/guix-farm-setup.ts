// The Guix farm's processes: `gbc coordinator` on a fresh PostgreSQL
// database with /gnu/store and a Guix key pair made by Guix itself; two
// machines, each a real guix-daemon with a private store (its own mount
// namespace, build users of its own) and a `gbc agent` on it signing its
// imports with the machine's Guix key (/etc/guix/signing-key.sec, which
// /etc/guix/acl authorizes), agent tags `machine=one|two`; the graph written
// into a workstation directory.
// Everything started is registered with a Closers so it ends even when the
// start fails half-way.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuildDaemon, type BuildDaemon } from '@gbc/store';
import { guixDir, startGuixDaemon, type GuixDaemonProcess, type GuixDaemonVersion } from '@gbc/store/testing';
import {
  gbcOk,
  startGbc,
  startGbcCoordinator,
  type GbcCoordinator,
  type GbcProcess,
} from '../support/gbc-cli.js';
import { createPostgresDatabase } from '../support/postgres-database.js';
import { generateGuixKeyPair } from './guix-authenticate.js';
import { ensureMachineBuildUsers } from './guix-build-users.js';
import { GNU_STORE, writeGuixFarmDag, type GuixFarmDag } from './guix-farm-dag.js';

/** The machine's Guix key: the agents sign imports with it; /etc/guix/acl authorizes it for both daemons. */
export const MACHINE_GUIX_KEY = '/etc/guix/signing-key.sec';

/** Ways to end what was started, run last-started first. */
export class Closers {
  readonly #steps: Array<{ what: string; close: () => Promise<unknown> | void }> = [];

  /** Registers `close` (what it ends is named in errors). */
  add(what: string, close: () => Promise<unknown> | void): void {
    this.#steps.push({ what, close });
  }

  /** Runs every step, even after one fails; throws one error naming each failure. */
  async closeAll(): Promise<void> {
    const failures: string[] = [];
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.close();
      } catch (error) {
        failures.push(`${step.what}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`closing the Guix farm failed: ${failures.join('; ')}`);
  }
}

/** How long a stopping agent may finish the builds it holds before it is told to abort them. */
const AGENT_GRACE_MS = 20_000;

/** One build machine: its daemon, a client of it, its agent. */
export interface GuixMachine {
  readonly tag: 'one' | 'two';
  readonly daemon: GuixDaemonProcess;
  readonly client: BuildDaemon;
  readonly agentUuid: string;
  readonly agent: GbcProcess;
}

/** A running farm. */
export interface GuixFarm {
  readonly version: GuixDaemonVersion;
  readonly dir: string;
  readonly guixDir: string;
  readonly coordinator: GbcCoordinator;
  /** GUIX_CONFIGURATION_DIRECTORY holding the coordinator's key pair and an ACL authorizing only it. */
  readonly coordinatorGuixConfig: string;
  readonly machines: readonly [GuixMachine, GuixMachine];
  readonly dag: GuixFarmDag;
  /** Runs `gbc ARGS --coordinator <client URL>` in the farm's directory; its standard output. */
  gbc(...args: string[]): Promise<string>;
}

/** Starts the farm on guix-daemon `version`, registering each part with `closers`. */
export async function startGuixFarm(version: GuixDaemonVersion, closers: Closers): Promise<GuixFarm> {
  const base = guixDir();
  if (base === undefined) throw new Error('$GBC_GUIX_DIR is unset');
  const dir = mkdtempSync(join(tmpdir(), `gbc-guix-farm-${version}-`));
  closers.add(`removing ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const database = await createPostgresDatabase('gbc_guix_farm');
  closers.add('dropping the database', () => database.drop());
  const coordinatorGuixConfig = join(dir, 'coordinator-guix');
  const keys = generateGuixKeyPair(base, coordinatorGuixConfig);
  const coordinator = await startGbcCoordinator(dir, [
    '--database',
    database.uri,
    '--data-dir',
    join(dir, 'data'),
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--store-dir',
    GNU_STORE,
    '--guix-signing-key',
    keys.secretKeyFile,
    '--log-level',
    'warn',
  ]);
  closers.add('stopping the coordinator', async () =>
    expectExit0('the coordinator', await coordinator.stop()),
  );
  const gbc = (...args: string[]) => gbcOk([...args, '--coordinator', coordinator.clientUrl], dir);
  const machines: GuixMachine[] = [];
  for (const tag of ['one', 'two'] as const)
    machines.push(await startMachine(version, tag, dir, coordinator, gbc, closers));
  const dag = await writeGuixFarmDag(
    join(dir, 'workstation-store'),
    join(base, 'busybox', 'bin', 'busybox'),
    randomUUID(),
  );
  return {
    version,
    dir,
    guixDir: base,
    coordinator,
    coordinatorGuixConfig,
    machines: [machines[0]!, machines[1]!],
    dag,
    gbc,
  };
}

async function startMachine(
  version: GuixDaemonVersion,
  tag: 'one' | 'two',
  dir: string,
  coordinator: GbcCoordinator,
  gbc: (...args: string[]) => Promise<string>,
  closers: Closers,
): Promise<GuixMachine> {
  // Its own build users: the daemons' user pools are as private as their stores (see guix-build-users.ts).
  const users = `--build-users-group=${ensureMachineBuildUsers(tag)}`;
  const daemon = await startGuixDaemon({ version, privateStore: true, extraArgs: [users] });
  closers.add(`stopping guix-daemon of machine ${tag}`, () => daemon.stop());
  const client = createBuildDaemon({ socket: daemon.socket, storeDir: GNU_STORE });
  closers.add(`closing the client of machine ${tag}'s daemon`, () => client.close());
  const created = JSON.parse(
    await gbc('agent', 'new', `guix-${tag}`, '--tag', `machine=${tag}`, '--json'),
  ) as { agent: { uuid: string }; password: string };
  writeFileSync(join(dir, `agent-${tag}.password`), created.password, { mode: 0o600 });
  const agent = startGbc(dir, `agent-${tag}`, [
    'agent',
    '--coordinator-url',
    coordinator.agentUrl,
    '--uuid',
    created.agent.uuid,
    '--password-file',
    `agent-${tag}.password`,
    '--store-dir',
    GNU_STORE,
    '--daemon-socket',
    daemon.socket,
    '--guix-signing-key',
    MACHINE_GUIX_KEY,
    '--state-dir',
    join(dir, `agent-${tag}-state`),
    '--max-parallel-builds',
    '2',
    '--max-1min-load-average',
    '1000',
    '--upload-compression',
    tag === 'one' ? 'zstd' : 'gzip',
    '--poll-interval',
    '0.2',
  ]);
  closers.add(`stopping agent ${tag}`, async () => expectExit0(`agent ${tag}`, await stopAgent(agent)));
  return { tag, daemon, client, agentUuid: created.agent.uuid, agent };
}

/** The end of each process's log (agents, coordinator, daemons), to show when a test failed. */
export function farmLogs(farm: GuixFarm, chars = 4000): string {
  return logTails(
    [...farm.machines.flatMap((m) => [m.agent.errFile, m.daemon.logFile]), farm.coordinator.errFile],
    chars,
  );
}

/** The last `chars` of each file, headed by its name. */
export function logTails(files: readonly string[], chars = 4000): string {
  return files
    .map((f) => `=== ${f}\n${existsSync(f) ? readFileSync(f, 'utf8').slice(-chars) : '(gone)'}`)
    .join('\n');
}

/** SIGTERM (finish what it holds); a second SIGTERM (abort it) if it is still running after a while, as after a failed test. */
export async function stopAgent(agent: GbcProcess): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = await Promise.race([
    agent.stop(),
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), AGENT_GRACE_MS))),
  ]);
  clearTimeout(timer);
  return graceful ?? agent.stop();
}

/** Throws unless a process exited 0. */
export function expectExit0(what: string, code: number): void {
  if (code !== 0) throw new Error(`${what} exited ${code}`);
}
