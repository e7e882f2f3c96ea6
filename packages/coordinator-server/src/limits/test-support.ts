// Test support for the client-auth, retention and limits tests (not exported):
// a started coordinator on a test place with any configuration and a manual clock.
import { join } from 'node:path';
import { createManualClock } from '../clock.js';
import type { ManualClock } from '../clock.js';
import type { CoordinatorConfig } from '../config.js';
import { createCoordinator } from '../coordinator/create-coordinator.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { silentLogger } from '../logger.js';
import type { TestPlace } from '../agent-api/test-support.js';

/** Configuration a test may set (the database, data directory and logger come from the place). */
export type TestConfig = Omit<CoordinatorConfig, 'databaseUri' | 'dataDir' | 'logger' | 'cwd' | 'clock'>;

/** Starts a coordinator on `place` with `config` and a manual clock at 2026-11-27 12:00 UTC. */
export async function startControlled(
  place: TestPlace,
  config: TestConfig = {},
): Promise<{ c: Coordinator; clock: ManualClock }> {
  const clock = createManualClock(Date.UTC(2026, 10, 27, 12));
  const c = await createCoordinator({
    leaseSeconds: 60,
    leaseCheckIntervalMs: 3_600_000,
    ...config,
    databaseUri: place.databaseUri,
    dataDir: join(place.dir, 'data'),
    logger: silentLogger,
    clock,
    cwd: place.dir,
  });
  await c.start();
  return { c, clock };
}

/** A request on the client app with an optional bearer token and JSON body. */
export async function clientCall(
  c: Coordinator,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return c.clientApp.request(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
