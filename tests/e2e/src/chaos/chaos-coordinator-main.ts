// The chaos run's coordinator in a process of its own: argv[2] is a JSON
// ChaosCoordinatorLaunch. What `gbc coordinator` runs (createCoordinator),
// on fixed ports (agents keep their URL across restarts), with how often
// expired leases are looked for (the command line does not set it) and the
// hook lease set through the library (so that the same test also runs on
// commits older than --hook-lease-seconds, to show what fails there). One
// command hook appends each build-success event to a file, one line per run.
// Prints `{"pid","agentUrl","clientUrl"}` once listening; stops on SIGTERM.
import { createCoordinator, createJsonLogger, listen } from '@gbc/coordinator-server';
import type { ChaosCoordinatorLaunch } from './chaos-coordinator.js';

const raw = process.argv[2];
if (raw === undefined) throw new Error('usage: chaos-coordinator-main.ts LAUNCH-JSON');
const launch = JSON.parse(raw) as ChaosCoordinatorLaunch;
// Read all of standard input first, then append it in one write ending in a
// newline: a run cut short leaves at worst a line of its own, never half of one glued to the next.
const appendEvent = `line=$(cat); printf '%s\\n' "$line" >> "$0"`;
const coordinator = await createCoordinator({
  databaseUri: launch.databaseUri,
  dataDir: launch.dataDir,
  cwd: launch.dataDir,
  storeDir: '/nix/store',
  agentUrl: launch.agentUrl,
  clientUrl: launch.clientUrl,
  leaseSeconds: launch.leaseSeconds,
  leaseCheckIntervalMs: launch.leaseCheckIntervalMs,
  logger: createJsonLogger('info'),
  hooks: { 'build-success': [{ command: ['/bin/sh', '-c', appendEvent, launch.hookRecord] }] },
  hookRunner: { leaseMs: launch.hookLeaseMs },
});
await coordinator.start();
const listening = await listen(coordinator);
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, agentUrl: listening.agentUrl, clientUrl: listening.clientUrl })}\n`,
);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await listening.close();
  await coordinator.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
