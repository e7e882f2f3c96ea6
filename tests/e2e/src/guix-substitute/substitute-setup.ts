// The processes of the substitution test: `gbc coordinator` on SQLite with
// /gnu/store and a Guix signing key (so its cache serves Guix narinfos by
// default), and one machine — machine A, a real guix-daemon with a private
// store and build users of its own — whose `gbc agent` builds two fresh
// derivations (`dep`, and `top`, whose output refers to dep's). They are
// written into machine A's store first (busybox and the .drv files) and
// submitted from there with `gbc submit-build --real-store-dir`. The
// coordinator can be restarted on the same database and data with another key.
// Everything started is registered with a Closers (from the Guix farm test).
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorClient, type BuildDetail } from '@gbc/protocol';
import { createBuildDaemon, type BuildDaemon } from '@gbc/store';
import {
  addBusybox,
  addShellDerivation,
  guixDir,
  startGuixDaemon,
  type GuixDaemonProcess,
  type GuixDaemonVersion,
  type TestDerivation,
} from '@gbc/store/testing';
import {
  gbcOk,
  startGbc,
  startGbcCoordinator,
  type GbcCoordinator,
  type GbcProcess,
} from '../support/gbc-cli.js';
import { waitFor } from '../support/wait-for.js';
import { ensureMachineBuildUsers } from '../guix/guix-build-users.js';
import { GNU_STORE, guixSystem } from '../guix/guix-farm-dag.js';
import { MACHINE_GUIX_KEY, expectExit0, logTails, stopAgent, type Closers } from '../guix/guix-farm-setup.js';

/** What machine A built through gbc. */
export interface BuiltItems {
  readonly busybox: string;
  readonly dep: TestDerivation;
  readonly top: TestDerivation;
  /** Output paths of dep and top. */
  readonly depOut: string;
  readonly topOut: string;
  /** The text both outputs carry, new each run (so no substitute cache knows the paths). */
  readonly marker: string;
  readonly builds: readonly BuildDetail[];
}

/** The running parts. */
export interface SubstituteSetup {
  readonly version: GuixDaemonVersion;
  readonly dir: string;
  readonly guixDir: string;
  /** The coordinator now running (replaced by {@link restartCoordinator}). */
  coordinator: GbcCoordinator;
  readonly daemonA: GuixDaemonProcess;
  readonly clientA: BuildDaemon;
  readonly agent: GbcProcess;
  readonly items: BuiltItems;
}

/** top's output ends with the numbers 1…this, one a line (about 24 KiB: above the agent's 16 KiB compression threshold). */
export const TOP_NUMBERS = 5000;

/** The coordinator's command line: SQLite and data in `dir`, /gnu/store, signing Guix narinfos with `guixKey`. */
function coordinatorArgs(dir: string, guixKey: string): string[] {
  return [
    '--database',
    `sqlite://${join(dir, 'gbc.db')}`,
    '--data-dir',
    join(dir, 'data'),
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--store-dir',
    GNU_STORE,
    '--guix-signing-key',
    guixKey,
    '--log-level',
    'warn',
  ];
}

/**
 * Starts the coordinator (signing with the machine's key, which /etc/guix/acl
 * authorizes) and machine A, and has A's agent build dep and top; resolves
 * when both builds ended (throws unless both succeeded).
 */
export async function startSubstituteSetup(
  version: GuixDaemonVersion,
  closers: Closers,
  buildTimeoutMs: number,
): Promise<SubstituteSetup> {
  const base = guixDir();
  if (base === undefined) throw new Error('$GBC_GUIX_DIR is unset');
  const dir = mkdtempSync(join(tmpdir(), `gbc-guix-substitute-${version}-`));
  closers.add(`removing ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const setup: { coordinator: GbcCoordinator } = {
    coordinator: await startGbcCoordinator(dir, coordinatorArgs(dir, MACHINE_GUIX_KEY)),
  };
  // Whichever coordinator runs at the end is stopped (a restart replaces it).
  closers.add('stopping the coordinator', async () =>
    expectExit0('the coordinator', await setup.coordinator.stop()),
  );
  const gbc = (...args: string[]) => gbcOk([...args, '--coordinator', setup.coordinator.clientUrl], dir);

  // Build users of its own, as in the farm test (see guix-build-users.ts).
  const daemonA = await startGuixDaemon({
    version,
    privateStore: true,
    extraArgs: [`--build-users-group=${ensureMachineBuildUsers('subst')}`],
  });
  closers.add('stopping guix-daemon A', () => daemonA.stop());
  const clientA = createBuildDaemon({ socket: daemonA.socket, storeDir: GNU_STORE });
  closers.add('closing the client of daemon A', () => clientA.close());

  const marker = randomUUID();
  const busybox = await addBusybox(clientA);
  const dep = await addShellDerivation(clientA, {
    name: 'gbc-subst-dep',
    busybox,
    system: guixSystem(),
    env: { MARKER: marker },
    script: 'echo dep $MARKER > $out',
  });
  const depOut = dep.outputs.get('out')!;
  // top's output names dep's output, so it refers to it (References, and a closure to substitute);
  // its numbers make its NAR big enough for the agent to compress (zstd), dep's stays uncompressed.
  const top = await addShellDerivation(clientA, {
    name: 'gbc-subst-top',
    busybox,
    system: guixSystem(),
    env: { MARKER: marker },
    inputs: [dep],
    script: `echo top $MARKER > $out; echo ${depOut} >> $out; seq 1 ${TOP_NUMBERS} >> $out`,
  });
  const topOut = top.outputs.get('out')!;

  const created = JSON.parse(await gbc('agent', 'new', 'guix-subst-a', '--json')) as {
    agent: { uuid: string };
    password: string;
  };
  writeFileSync(join(dir, 'agent.password'), created.password, { mode: 0o600 });
  const agent = startGbc(dir, 'agent', [
    'agent',
    '--coordinator-url',
    setup.coordinator.agentUrl,
    '--uuid',
    created.agent.uuid,
    '--password-file',
    'agent.password',
    '--store-dir',
    GNU_STORE,
    '--daemon-socket',
    daemonA.socket,
    '--guix-signing-key',
    MACHINE_GUIX_KEY,
    '--state-dir',
    join(dir, 'agent-state'),
    '--max-1min-load-average',
    '1000',
    '--poll-interval',
    '0.2',
    '--upload-compression',
    'zstd',
  ]);
  closers.add('stopping the agent', async () => expectExit0('the agent', await stopAgent(agent)));

  const out = await gbc(
    'submit-build',
    dep.drvPath,
    top.drvPath,
    '--store-dir',
    GNU_STORE,
    '--real-store-dir',
    daemonA.storeOnDisk,
    '--json',
  );
  const { builds } = JSON.parse(out) as { builds: Array<{ uuid: string; created: boolean }> };
  if (builds.length !== 2 || builds.some((b) => !b.created))
    throw new Error(`gbc submit-build did not create two builds: ${out}`);
  const client = new CoordinatorClient({ baseUrl: setup.coordinator.clientUrl });
  const ended = await waitFor(
    'both builds to end',
    async () => {
      const details = await Promise.all(builds.map((b) => client.getBuild(b.uuid)));
      return details.every((d) => ['succeeded', 'failed', 'canceled'].includes(d.state))
        ? details
        : undefined;
    },
    buildTimeoutMs,
    250,
  );
  const failed = ended.filter((b) => b.state !== 'succeeded');
  if (failed.length > 0)
    throw new Error(
      `builds did not succeed: ${failed.map((b) => `${b.derivation} ${b.state} ${b.attempts.map((a) => a.failureReason ?? '').join('; ')}`).join('\n')}`,
    );
  const items = { busybox, dep, top, depOut, topOut, marker, builds: ended };
  return Object.assign(setup, { version, dir, guixDir: base, daemonA, clientA, agent, items });
}

/**
 * Stops the coordinator and starts another on the same database and data
 * directory, signing with `guixKey` (its log in `<dir>/<name>/`).
 */
export async function restartCoordinator(
  setup: SubstituteSetup,
  guixKey: string,
  name: string,
): Promise<GbcCoordinator> {
  expectExit0('the coordinator', await setup.coordinator.stop());
  const cwd = join(setup.dir, name);
  mkdirSync(cwd, { recursive: true });
  setup.coordinator = await startGbcCoordinator(cwd, coordinatorArgs(setup.dir, guixKey));
  return setup.coordinator;
}

/** The end of each process's log, to show when a test failed. */
export function substituteLogs(setup: SubstituteSetup, more: readonly string[] = [], chars = 4000): string {
  return logTails([setup.agent.errFile, setup.daemonA.logFile, setup.coordinator.errFile, ...more], chars);
}
