// Test support for the cache, hook and metrics tests: a real coordinator
// context (SQLite file or PostgreSQL, data-directory storage, scheduler,
// event bus) without the HTTP servers, reopened on the same files to stand
// for a restarted coordinator.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBasicStrategy } from '@gbc/allocator';
import { openDatastore, recordDerivations, type DerivationRecord } from '@gbc/datastore';
import { createManualClock, type Clock } from '../../clock.js';
import { resolveConfig } from '../../config.js';
import type { CoordinatorContext } from '../../context.js';
import { createEventBus } from '../../events/event-bus.js';
import { silentLogger } from '../../logger.js';
import { createScheduler } from '../../scheduler/create-scheduler.js';
import { createDataDirStorage, createLogStore, createNarUploads } from '../../storage/index.js';
import { createOutputRemovals } from '../../cache/output-removals.js';

/** A context and the means to end it. */
export interface TestCoordinator {
  readonly ctx: CoordinatorContext;
  /** The directory holding the database file and the data directory. */
  readonly dir: string;
  /** Closes the datastore (the files stay until `cleanup`). */
  close(): Promise<void>;
}

/** Options of {@link openTestCoordinator}. */
export interface TestCoordinatorOptions {
  /** Default `sqlite://<dir>/gbc.db`. */
  readonly databaseUri?: string;
  readonly clock?: Clock;
}

/** A fresh temporary directory for {@link openTestCoordinator}. */
export function makeTestDir(prefix = 'gbc-hooks-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a directory made by {@link makeTestDir}. */
export function removeTestDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Opens (or reopens) a coordinator context over `dir`. */
export async function openTestCoordinator(
  dir: string,
  options: TestCoordinatorOptions = {},
): Promise<TestCoordinator> {
  const clock = options.clock ?? createManualClock(Date.now());
  const config = resolveConfig({
    databaseUri: options.databaseUri ?? `sqlite://${join(dir, 'gbc.db')}`,
    dataDir: join(dir, 'data'),
    clock,
    logger: silentLogger,
    cwd: dir,
  });
  const datastore = await openDatastore(config.databaseUri, { cwd: dir });
  const store = await createDataDirStorage(config.dataDir);
  const storage = {
    store,
    nars: await createNarUploads({ storage: store }),
    logs: await createLogStore({ storage: store }),
  };
  const scheduler = createScheduler({
    datastore,
    strategy: createBasicStrategy(),
    clock,
    logger: silentLogger,
    leaseMs: config.leaseSeconds * 1000,
  });
  const ctx: CoordinatorContext = {
    config,
    datastore,
    scheduler,
    storage,
    clock,
    events: createEventBus({ now: () => clock.now() }),
    logger: silentLogger,
    observeUpload: () => undefined,
    outputRemovals: createOutputRemovals(),
  };
  return { ctx, dir, close: () => datastore.close() };
}

let counter = 0;

/** Records a synthetic derivation `name` (outputs under `storeDir`, inputs' `out` used) and returns it. */
export async function addDerivation(
  ctx: CoordinatorContext,
  name: string,
  inputs: readonly DerivationRecord[] = [],
  storeDir = '/gnu/store',
): Promise<DerivationRecord> {
  counter += 1;
  const hash = (seed: string) =>
    [
      ...createHash('sha256')
        .update(`${seed}:${counter}:${name}:${process.pid}:${Date.now()}`)
        .digest()
        .subarray(0, 32),
    ]
      .map((b) => '0123456789abcdfghijklmnpqrsvwxyz'[b % 32])
      .join('');
  const out = `${storeDir}/${hash('o')}-${name}`;
  const path = `${storeDir}/${hash('d')}-${name}.drv`;
  const inputDerivations = inputs.map((i) => ({ path: i.path, outputs: ['out'] }));
  const text = Buffer.from(
    `Derive([("out","${out}","","")],[${inputDerivations.map((i) => `("${i.path}",["out"])`).join(',')}],[],"x86_64-linux","/bin/sh",[],[])`,
  );
  const record: DerivationRecord = {
    path,
    name,
    system: 'x86_64-linux',
    fixedOutput: false,
    text,
    outputs: [{ name: 'out', path: out, hashAlgo: '', hash: '' }],
    inputDerivations,
    inputSources: [],
  };
  await recordDerivations(ctx.datastore.db, [record]);
  return record;
}
