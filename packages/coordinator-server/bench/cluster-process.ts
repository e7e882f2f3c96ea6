// One coordinator process of the multi-process benchmarks (failover.bench.ts),
// as `gbc coordinator` runs on PostgreSQL: it joins the election, listens on
// loopback, and tells its parent over IPC when it listens and when it becomes
// the scheduler. SIGKILL is the parent's business; SIGTERM stops it cleanly.
import { createCoordinator, listen, silentLogger } from '../src/index.js';

/** What the parent passes as argv[2] (JSON). */
export interface ClusterProcessOptions {
  readonly databaseUri: string;
  readonly dataDir: string;
  readonly signingKeyFile?: string;
}

/** What it reports. */
export type ClusterProcessReport =
  | { readonly kind: 'listening'; readonly agentUrl: string; readonly leader: boolean; readonly pid: number }
  | { readonly kind: 'leader'; readonly at: number; readonly rebuildMs: number };

const options = JSON.parse(process.argv[2] ?? '{}') as ClusterProcessOptions;
// The rebuild time of a takeover, as the coordinator logs it.
let rebuildMs = 0;
const logger = {
  ...silentLogger,
  info(message: string, fields: Record<string, unknown> = {}) {
    if (message === 'this process is the scheduler: queue rebuilt') rebuildMs = Number(fields.rebuildMs);
  },
};
const coordinator = await createCoordinator({
  databaseUri: options.databaseUri,
  dataDir: options.dataDir,
  cwd: options.dataDir,
  logger,
  cache: options.signingKeyFile === undefined ? {} : { signingKeyFile: options.signingKeyFile },
});
await coordinator.start();
const listening = await listen(coordinator, {
  agentUrl: 'http://127.0.0.1:0',
  clientUrl: 'http://127.0.0.1:0',
});
const send = (report: ClusterProcessReport) => process.send?.(report);
const leaderNow = () => coordinator.cluster?.isLeader() === true;
send({ kind: 'listening', agentUrl: listening.agentUrl, leader: leaderNow(), pid: process.pid });
if (!leaderNow()) {
  // Polled: the moment it can hand out builds (elected and its queue rebuilt).
  const timer = setInterval(() => {
    if (!leaderNow()) return;
    clearInterval(timer);
    send({ kind: 'leader', at: Date.now(), rebuildMs });
  }, 10);
}
process.once('SIGTERM', () => {
  void listening
    .close()
    .then(() => coordinator.stop())
    .then(() => process.exit(0));
});
