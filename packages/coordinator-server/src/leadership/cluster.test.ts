// Two coordinators on one PostgreSQL database, each listening on loopback:
// exactly one schedules; builds submitted through the other reach its queue;
// fetch-builds through the other is forwarded over HTTP; events cross; the
// follower takes over when the scheduler stops or loses its session. On
// SQLite a second coordinator on the same file is refused.
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatastore } from '@gbc/datastore';
import type { GbcEvent } from '@gbc/protocol';
import { createCoordinator } from '../coordinator/create-coordinator.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { listen } from '../coordinator/listen.js';
import type { Listening } from '../coordinator/listen.js';
import { silentLogger } from '../logger.js';
import { createTestPlace, fakeDrv, hashPart, makeAgent, submit } from '../agent-api/test-support.js';
import { resolveRetentionPolicy } from '../retention/policy.js';
import { runRetention } from '../retention/run-retention.js';
import { storeAgedOutput } from '../hooks/testing/store-output.js';
import type { TestPlace } from '../agent-api/test-support.js';

interface Running {
  readonly c: Coordinator;
  readonly l: Listening;
}

const places: TestPlace[] = [];
const running: Running[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.l.close();
    await r.c.stop();
  }
  for (const p of places.splice(0)) p.remove();
});

async function startProcess(place: TestPlace, yieldPolls?: number): Promise<Running> {
  const c = await createCoordinator({
    databaseUri: place.databaseUri,
    dataDir: join(place.dir, 'data'),
    cwd: place.dir,
    logger: silentLogger,
    electionPollMs: 50,
    // Bounded, but long enough for an election on a busy machine.
    electionWaitMs: 60_000,
    ...(yieldPolls === undefined ? {} : { electionYieldPolls: yieldPolls }),
  });
  await c.start();
  const l = await listen(c, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' });
  const r = { c, l };
  running.push(r);
  return r;
}

/** Waits for `check` to hold (polling; bounded at 90 s, which only a hang reaches, and under the test's own timeout so that the error names the step). */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened within 90 s: ${what}`);
}

async function fetchVia(
  r: Running,
  agent: { id: string; auth: string },
): Promise<{ status: number; builds: { uuid: string }[] }> {
  const res = await fetch(`${r.l.agentUrl}/agent/${agent.id}/fetch-builds`, {
    method: 'POST',
    headers: { authorization: agent.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ count: 10, systems: ['x86_64-linux'] }),
  });
  const body = (await res.json()) as { builds?: { uuid: string }[] };
  return { status: res.status, builds: body.builds ?? [] };
}

describe('several coordinator processes on one PostgreSQL', () => {
  async function threeProcesses(): Promise<[Running, Running, Running]> {
    const [a, b] = await twoProcesses();
    return [a, b, await startProcess(places.at(-1)!)];
  }

  async function twoProcesses(firstYieldPolls?: number): Promise<[Running, Running]> {
    const place = createTestPlace('postgres');
    places.push(place);
    const a = await startProcess(place, firstYieldPolls);
    const b = await startProcess(place);
    return [a, b];
  }

  it('one schedules; a build submitted through the other is allocated by fetch-builds through the other', async () => {
    const [a, b] = await twoProcesses();
    expect([a.c.cluster?.isLeader(), b.c.cluster?.isLeader()]).toEqual([true, false]);
    const agent = await makeAgent(b.c, 'agent-1');
    const drv = fakeDrv('via-follower');
    const [id] = await submit(b.c, [drv], [{ derivationPath: drv.path }]);
    // The follower relays the new build to the scheduler, and forwards fetch-builds to it.
    const got = await until('the build allocated through the follower', async () => {
      const r = await fetchVia(b, agent);
      return r.status === 200 && r.builds.length > 0 ? r.builds : undefined;
    });
    expect(got.map((g) => g.uuid)).toEqual([id]);
    // Nothing twice: the scheduler has nothing more for anyone.
    expect((await fetchVia(a, agent)).builds).toEqual([]);
  });

  it('shows every event on every process', async () => {
    const [a, b] = await twoProcesses();
    const seen: GbcEvent[] = [];
    const unsubscribe = b.c.context.events.subscribe(null, (e) => seen.push(e));
    // Whatever a database user sends on the channel is dropped, and the channel keeps working.
    const ds = await openDatastore(places[0]!.databaseUri, { migrate: false });
    try {
      for (const junk of ['garbage', '{"from":"x","items":[{"t":"call","call":{"op":"refresh","ids":"b"}}]}'])
        await sql`select pg_notify('gbc_cluster', ${junk})`.execute(ds.db);
    } finally {
      await ds.close();
    }
    a.c.context.events.publish({ type: 'build-canceled', build: 'x-1', data: { n: 1 } });
    a.c.context.events.publish({ type: 'build-canceled', build: 'x-2', data: { n: 2 } });
    await until('both events at the other process', () => (seen.length >= 2 ? true : undefined));
    unsubscribe();
    expect(seen.map((e) => [e.type, e.build, e.data])).toEqual([
      ['build-canceled', 'x-1', { n: 1 }],
      ['build-canceled', 'x-2', { n: 2 }],
    ]);
  });

  it('never forwards a forwarded fetch-builds again: a process that does not schedule answers 503', async () => {
    const [, b] = await twoProcesses();
    const agent = await makeAgent(b.c, 'agent-1');
    const res = await fetch(`${b.l.agentUrl}/agent/${agent.id}/fetch-builds`, {
      method: 'POST',
      headers: {
        authorization: agent.auth,
        'content-type': 'application/json',
        'x-gbc-forwarded-by': 'elsewhere',
      },
      body: JSON.stringify({ count: 1, systems: ['x86_64-linux'] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
  });

  it('the other takes over when the scheduler stops, and rebuilds its queue from the database', async () => {
    const [a, b] = await twoProcesses();
    const agent = await makeAgent(a.c, 'agent-1');
    const drvs = [fakeDrv('one'), fakeDrv('two')];
    const ids = await submit(
      a.c,
      drvs,
      drvs.map((d) => ({ derivationPath: d.path })),
    );
    await a.l.close();
    await a.c.stop();
    running.splice(running.indexOf(a), 1);
    await until('the other process elected', () => (b.c.cluster?.isLeader() === true ? true : undefined));
    const got = await fetchVia(b, agent);
    expect(got.builds.map((g) => g.uuid).sort()).toEqual([...ids].sort());
  });

  it('a fetch-builds through a follower during a takeover waits for the new scheduler: one call gets the build', async () => {
    const [a, , c] = await threeProcesses();
    const agent = await makeAgent(a.c, 'agent-1');
    const drv = fakeDrv('during-takeover');
    const [id] = await submit(a.c, [drv], [{ derivationPath: drv.path }]);
    await a.l.close();
    await a.c.stop();
    running.splice(running.indexOf(a), 1);
    const got = await fetchVia(c, agent);
    expect([got.status, got.builds.map((g) => g.uuid)]).toEqual([200, [id]]);
  });

  it('a scheduler whose session is cut stops scheduling at once; the other takes over', async () => {
    // The cut process leaves the lock to the others for 1,200 polls (60 s): only a hang keeps b from it.
    const [a, b] = await twoProcesses(1200);
    const agent = await makeAgent(a.c, 'agent-1');
    await cutControlSession(a);
    await until('the cut scheduler deposed', () => (a.c.cluster?.isLeader() === false ? true : undefined));
    await until('the other process elected', () => (b.c.cluster?.isLeader() === true ? true : undefined));
    const drv = fakeDrv('after-cut');
    const [id] = await submit(a.c, [drv], [{ derivationPath: drv.path }]);
    const got = await until('the build allocated through the old scheduler', async () => {
      const r = await fetchVia(a, agent);
      return r.status === 200 && r.builds.length > 0 ? r.builds : undefined;
    });
    expect(got.map((g) => g.uuid)).toEqual([id]);
  });

  it('an output that retention removes in one process is forgotten by the narinfo cache of the other', async () => {
    const [a, b] = await twoProcesses();
    const hash = hashPart();
    const storePath = `/gnu/store/${hash}-removed`;
    await storeAgedOutput(a.c.context, storePath, 10 * 86_400_000);
    const narinfo = async () => (await fetch(`${b.l.agentUrl}/${hash}.narinfo`)).status;
    // b now holds the output in memory (it would serve it from there for up to a minute).
    expect(await narinfo()).toBe(200);
    const removed = await runRetention({
      datastore: a.c.context.datastore,
      storage: a.c.context.storage.store,
      policy: resolveRetentionPolicy({ outputDays: 7 }),
      now: () => Date.now(),
      onOutputsRemoved: (paths) => a.c.context.outputRemovals.notify(paths),
    });
    expect(removed.removedOutputs).toEqual([storePath]);
    // Told over the cluster channel: b answers 404 long before its cache would reload the
    // entry by itself (at 45 s at the earliest), whatever the machine's load.
    const deadline = Date.now() + 30_000;
    while ((await narinfo()) !== 404 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await narinfo()).toBe(404);
  });

  it('a lone scheduler whose session is cut takes the lock back once it has left it to the others', async () => {
    const place = createTestPlace('postgres');
    places.push(place);
    const a = await startProcess(place, 3);
    const cluster = a.c.cluster!;
    expect([cluster.isLeader(), cluster.term()]).toEqual([true, 1]);
    await cutControlSession(a);
    await until('the lone process elected again', () =>
      cluster.isLeader() && cluster.term() === 2 ? true : undefined,
    );
  });
});

/** Ends `r`'s control session from the server's side, as a broken link does. */
async function cutControlSession(r: Running): Promise<void> {
  const ds = await openDatastore(places.at(-1)!.databaseUri, { migrate: false });
  try {
    const name = `gbc-coordinator ${r.c.cluster!.processId}`;
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`.execute(
      ds.db,
    );
  } finally {
    await ds.close();
  }
}

describe('one coordinator process per SQLite database', () => {
  it('refuses a second process on the same file with a clear error, and starts once the first stopped', async () => {
    const place = createTestPlace('sqlite');
    places.push(place);
    const first = await startProcess(place);
    await expect(
      createCoordinator({
        databaseUri: place.databaseUri,
        dataDir: join(place.dir, 'data'),
        cwd: place.dir,
        logger: silentLogger,
      }),
    ).rejects.toMatchObject({
      code: 'in-use',
      message: expect.stringContaining('another coordinator process'),
    });
    await first.l.close();
    await first.c.stop();
    running.splice(0);
    const again = await startProcess(place);
    expect(again.c.cluster).toBeUndefined();
  });
});
