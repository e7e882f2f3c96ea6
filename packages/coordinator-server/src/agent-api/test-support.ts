// Test support for the agent API and scheduler tests (not exported): a
// coordinator on a fresh SQLite file or PostgreSQL database with a manual
// clock, synthetic derivations recorded straight into the datastore, and
// agents with Basic credentials.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent, createAgentPassword, createBuilds, recordDerivations } from '@gbc/datastore';
import type { BuildRequest, DerivationRecord } from '@gbc/datastore';
import { createManualClock } from '../clock.js';
import type { ManualClock } from '../clock.js';
import { createCoordinator } from '../coordinator/create-coordinator.js';
import type { Coordinator, CoordinatorOptions } from '../coordinator/create-coordinator.js';
import { listen, type Listening, type ListenOptions } from '../coordinator/listen.js';
import { silentLogger } from '../logger.js';

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** A random store path basename hash. */
export function hashPart(): string {
  const b = randomBytes(32);
  let s = '';
  for (let i = 0; i < 32; i++) s += NIX32[b[i]! % 32];
  return s;
}

/** A synthetic derivation (the datastore does not check texts) depending on `inputs`' `out`. */
export function fakeDrv(
  name: string,
  inputs: readonly DerivationRecord[] = [],
  system = 'x86_64-linux',
): DerivationRecord {
  const path = `/gnu/store/${hashPart()}-${name}.drv`;
  const out = `/gnu/store/${hashPart()}-${name}`;
  return {
    path,
    name,
    system,
    fixedOutput: false,
    text: Buffer.from(`Derive([("out","${out}","","")],[],[],"${system}","/bin/sh",[],[])`),
    outputs: [{ name: 'out', path: out, hashAlgo: '', hash: '' }],
    inputDerivations: inputs.map((i) => ({ path: i.path, outputs: ['out'] })),
    inputSources: [],
  };
}

/** The PostgreSQL server of the tests; a clear error when GBC_TEST_POSTGRES_URI is missing. */
export function postgresUri(): string {
  const uri = process.env.GBC_TEST_POSTGRES_URI;
  if (uri === undefined || uri === '')
    throw new Error(
      'GBC_TEST_POSTGRES_URI is not set: these tests need PostgreSQL, e.g. GBC_TEST_POSTGRES_URI=postgres://postgres@127.0.0.1:54329/gbc (scripts/test sets it)',
    );
  return uri;
}

/** A database of its own for one test file, and its directory. */
export interface TestPlace {
  readonly databaseUri: string;
  readonly dir: string;
  remove(): void;
}

/** Creates an empty SQLite file or PostgreSQL database. */
export function createTestPlace(dialect: 'sqlite' | 'postgres'): TestPlace {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-'));
  if (dialect === 'sqlite')
    return {
      databaseUri: `sqlite://${join(dir, 'gbc.db')}`,
      dir,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  const base = postgresUri();
  const name = `gbc_agent_${randomBytes(6).toString('hex')}`;
  execFileSync('psql', [base, '-qc', `create database ${name}`], { stdio: 'pipe' });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    databaseUri: url.toString(),
    dir,
    remove: () => {
      execFileSync('psql', [base, '-qc', `drop database if exists ${name} with (force)`], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a coordinator on `place` with `clock`. */
export async function startOn(
  place: TestPlace,
  clock: ManualClock = createManualClock(),
  leaseSeconds = 60,
): Promise<Coordinator> {
  const c = await createCoordinator({
    databaseUri: place.databaseUri,
    dataDir: join(place.dir, 'data'),
    logger: silentLogger,
    clock,
    cwd: place.dir,
    leaseSeconds,
    leaseCheckIntervalMs: 3_600_000,
  });
  await c.start();
  return c;
}

/** A coordinator on a fresh place, listening on loopback (real HTTP), and how to stop it all. */
export interface ListeningCoordinator {
  readonly c: Coordinator;
  readonly listening: Listening;
  close(): Promise<void>;
}

/** Starts a coordinator with `options` on a fresh `dialect` place and listens on ephemeral loopback ports. */
export async function startListening(
  dialect: 'sqlite' | 'postgres',
  options: Partial<CoordinatorOptions> = {},
  listenOptions: ListenOptions = {},
): Promise<ListeningCoordinator> {
  const place = createTestPlace(dialect);
  const c = await createCoordinator({
    databaseUri: place.databaseUri,
    dataDir: join(place.dir, 'data'),
    cwd: place.dir,
    logger: silentLogger,
    ...options,
  });
  await c.start();
  const listening = await listen(c, {
    agentUrl: 'http://127.0.0.1:0',
    clientUrl: 'http://127.0.0.1:0',
    ...listenOptions,
  });
  return {
    c,
    listening,
    async close() {
      await listening.close();
      await c.stop();
      place.remove();
    },
  };
}

/**
 * Submits a build of `drv`, has `agent` fetch it (it must be the one handed
 * out) and report its start; returns the build's UUID.
 */
export async function startedBuild(
  c: Coordinator,
  agent: { id: string; auth: string },
  drv: DerivationRecord,
): Promise<string> {
  const [id] = await submit(c, [drv], [{ derivationPath: drv.path }]);
  const got = (await (
    await call(c, 'POST', `/agent/${agent.id}/fetch-builds`, agent.auth, { count: 1, systems: [drv.system] })
  ).json()) as { builds: { uuid: string }[] };
  if (got.builds.length !== 1 || got.builds[0]!.uuid !== id)
    throw new Error(`fetch-builds handed out ${JSON.stringify(got.builds.map((b) => b.uuid))}, not ${id}`);
  const start = await call(c, 'POST', `/build/${id}/report-build-start`, agent.auth);
  if (start.status !== 204) throw new Error(`report-build-start answered ${start.status}`);
  return id;
}

/** Creates an agent with a password; returns its id and Basic header. */
export async function makeAgent(
  c: Coordinator,
  name: string,
  tags: readonly { key: string; value: string }[] = [],
): Promise<{ id: string; auth: string; password: string }> {
  const db = c.context.datastore.db;
  const agent = await createAgent(db, { name, tags, systems: ['x86_64-linux'] });
  const password = await createAgentPassword(db, agent.id);
  return {
    id: agent.id,
    password,
    auth: `Basic ${Buffer.from(`${agent.id}:${password}`).toString('base64')}`,
  };
}

/** Records derivations and creates one build per request, then tells the scheduler. */
export async function submit(
  c: Coordinator,
  drvs: readonly DerivationRecord[],
  requests: readonly BuildRequest[],
): Promise<string[]> {
  const db = c.context.datastore.db;
  await recordDerivations(db, drvs);
  const created = await createBuilds(db, requests, c.context.clock.now());
  await c.scheduler.notifyBuildsCreated(created.map((b) => b.id));
  return created.map((b) => b.id);
}

/** A JSON request on the agent app. */
export function call(
  c: Coordinator,
  method: string,
  path: string,
  auth: string | undefined,
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (auth !== undefined) headers.Authorization = auth;
  return Promise.resolve(
    c.agentApp.request(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

export { createManualClock };
export type { ManualClock };
