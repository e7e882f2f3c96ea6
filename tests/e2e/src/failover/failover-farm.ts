// The failover test's farm, real processes only: three `gbc coordinator`
// processes on one fresh PostgreSQL database, sharing one place for the bytes
// (an S3 bucket, or a data directory as on a shared file system) and a signing key,
// with a command hook that appends every build-success and build-failure
// event to one file; two nix-daemons with stores of their own and one
// `gbc agent` each, given all three coordinator URLs. `close()` stops
// whatever was started, also after a failed set-up.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gbcOk, startGbc, startGbcCoordinator } from '../support/gbc-cli.js';
import type { GbcCoordinator, GbcProcess } from '../support/gbc-cli.js';
import { startNixDaemon } from '../support/nix-daemon-process.js';
import type { NixDaemonProcess } from '../support/nix-daemon-process.js';
import { createPostgresDatabase } from '../support/postgres-database.js';

/** A coordinator process of the farm, and whether the test killed it. */
export interface FarmCoordinator extends GbcCoordinator {
  killed: boolean;
}

/** The running farm. */
export interface FailoverFarm {
  readonly dir: string;
  readonly databaseUri: string;
  readonly coordinators: readonly FarmCoordinator[];
  /** Lines the command hook wrote: one JSON event each. */
  readonly hookRecord: string;
  /** `name:base64` of the signing key. */
  readonly publicKey: string;
  /** Exit codes of the agents, once stopped. */
  close(): Promise<{ agentCodes: number[]; coordinatorCodes: number[] }>;
}

/** Options of {@link startFailoverFarm}. */
export interface FailoverFarmOptions {
  /** `--storage` of every coordinator (e.g. `s3://…`, credentials in the environment); default the shared data directory. */
  readonly storage?: string;
}

/** Starts the farm; see the file header. */
export async function startFailoverFarm(options: FailoverFarmOptions = {}): Promise<FailoverFarm> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-failover-'));
  const database = await createPostgresDatabase('gbc_failover');
  const coordinators: FarmCoordinator[] = [];
  const daemons: NixDaemonProcess[] = [];
  const agents: GbcProcess[] = [];
  const close = async () => {
    const agentCodes = await Promise.all(agents.map((a) => a.stop()));
    const coordinatorCodes = await Promise.all(coordinators.filter((c) => !c.killed).map((c) => c.stop()));
    await Promise.all(daemons.map((d) => d.stop()));
    await database.drop();
    if (process.env.GBC_FAILOVER_KEEP_DIR === undefined) rmSync(dir, { recursive: true, force: true });
    return { agentCodes, coordinatorCodes };
  };
  try {
    await gbcOk(['cache', 'key', 'new', 'failover-1'], dir);
    const publicKey = readFileSync(join(dir, 'failover-1.pub'), 'utf8').trim();
    const hookRecord = join(dir, 'hook-record.jsonl');
    const hook = { command: ['/bin/sh', '-c', `cat >> ${hookRecord}; echo >> ${hookRecord}`] };
    writeFileSync(
      join(dir, 'gbc.config.json'),
      JSON.stringify({ hooks: { 'build-success': [hook], 'build-failure': [hook] } }),
    );
    for (const n of [1, 2, 3]) {
      const cwd = join(dir, `coordinator-${n}`);
      mkdirSync(cwd);
      // One after the other: the first one elected is the scheduler the test kills.
      const c = await startGbcCoordinator(cwd, coordinatorArgs(dir, database.uri, options.storage));
      coordinators.push({ ...c, killed: false });
    }
    const urls = coordinators.map((c) => c.agentUrl).join(',');
    for (const n of [1, 2]) {
      daemons.push(await startNixDaemon(join(dir, `machine-${n}`), '/nix/store'));
      agents.push(await startAgent(dir, n, urls, daemons.at(-1)!.socket, coordinators[0]!.clientUrl));
    }
    return { dir, databaseUri: database.uri, coordinators, hookRecord, publicKey, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

function coordinatorArgs(dir: string, databaseUri: string, storage: string | undefined): string[] {
  return [
    ...(storage === undefined ? [] : ['--storage', storage]),
    '--config',
    join(dir, 'gbc.config.json'),
    '--database',
    databaseUri,
    '--data-dir',
    join(dir, 'data'),
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--store-dir',
    '/nix/store',
    '--signing-key',
    join(dir, 'failover-1.sec'),
    '--log-level',
    'info',
  ];
}

async function startAgent(
  dir: string,
  n: number,
  coordinatorUrls: string,
  socket: string,
  clientUrl: string,
): Promise<GbcProcess> {
  const created = JSON.parse(
    await gbcOk(['agent', 'new', `failover-agent-${n}`, '--json', '--coordinator', clientUrl], dir),
  ) as { agent: { uuid: string }; password: string };
  writeFileSync(join(dir, `agent-${n}.password`), created.password, { mode: 0o600 });
  return startGbc(dir, `agent-${n}`, [
    'agent',
    '--coordinator-url',
    coordinatorUrls,
    '--uuid',
    created.agent.uuid,
    '--password-file',
    `agent-${n}.password`,
    '--store-dir',
    '/nix/store',
    '--daemon-socket',
    socket,
    '--state-dir',
    join(dir, `agent-${n}-state`),
    '--max-parallel-builds',
    '2',
    '--max-1min-load-average',
    '1000',
    '--poll-interval',
    '0.2',
  ]);
}
