// A coordinator in its own process, for end-to-end tests: argv[2] is a JSON
// LaunchOptions. Prints one JSON line `{"pid","agentUrl","clientUrl"}` on
// standard output once both ports listen; stops cleanly on SIGTERM/SIGINT.
import { createCoordinator, createJsonLogger, listen } from '@gbc/coordinator-server';
import type { LaunchOptions } from './coordinator-process.js';

const raw = process.argv[2];
if (raw === undefined) throw new Error('usage: coordinator-main.ts OPTIONS-JSON');
const options = JSON.parse(raw) as LaunchOptions;
const coordinator = await createCoordinator({
  databaseUri: options.databaseUri,
  dataDir: options.dataDir,
  cwd: options.dataDir,
  leaseSeconds: options.leaseSeconds ?? 300,
  logger: createJsonLogger('warn'),
  client: { storeDir: options.storeDir },
  cache: { storeDir: options.storeDir },
  uploads: options.maxNarSize === undefined ? {} : { maxNarSize: options.maxNarSize },
});
await coordinator.start();
const listening = await listen(coordinator, {
  agentUrl: 'http://127.0.0.1:0',
  clientUrl: 'http://127.0.0.1:0',
});
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
