// The cache's helper processes (cache-processes.ts) as `listen` runs them
// with `cacheProcesses: 3`: real processes sharing the cache port's socket
// with this one, on a real SQLite file and data directory, and on a real
// PostgreSQL server and S3 API server (storage/testing/s3-target.ts). Which process
// answered a request is read from /proc (the owner of the connection's
// socket), so each check below is made against each process, helpers
// included: the same bytes and validators everywhere; NARs and ranges from
// the shared storage; hostile requests answered alike; a removal (retention)
// forgotten by every process before `notify` resolves; a killed helper, or
// one that does not answer a removal, replaced; every helper gone after close.
import {
  Agent,
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
} from 'node:http';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatastore } from '@gbc/datastore';
import { generateGuixSecretKey, generateSecretKey, parseNarInfo } from '@gbc/store';
import { hashPart, startListening, type ListeningCoordinator } from '../agent-api/test-support.js';
import { storeAgedOutput, storeOutput } from '../hooks/testing/store-output.js';
import { resolveRetentionPolicy } from '../retention/policy.js';
import { runRetention } from '../retention/run-retention.js';
import { makeNar } from '../test-support/bytes.js';
import { startS3Target, type S3TestTarget } from '../storage/testing/s3-target.js';
import { resolveConfig } from '../config.js';
import { createCoordinator } from '../coordinator/create-coordinator.js';
import { listen } from '../coordinator/listen.js';
import { silentLogger } from '../logger.js';
import { resolveCacheOptions } from './cache-options.js';
import { sendCacheOptions, startCacheProcesses } from './cache-processes.js';
import { createOutputRemovals } from './output-removals.js';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const nixKey = generateSecretKey('gbc-helpers-1');

/** The coordinator of a suite, listening with helpers; its cache port's URL. */
interface Served {
  readonly lc: ListeningCoordinator;
  readonly cacheUrl: string;
}

/** One request through `agent` (one kept-alive connection); the answer and the process that took the connection. */
function exchange(
  on: Served,
  agent: Agent,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ answer: Answer; pid: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${on.cacheUrl}${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          answer: { status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) },
          pid: req.socket === null ? undefined : ownerOf(on, req.socket.localPort!),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The process (this one or a helper) holding the server side of the connection from local port `port`. */
function ownerOf(on: Served, port: number): number | undefined {
  const serverPort = Number(new URL(on.cacheUrl).port);
  let inode: string | undefined;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = parseInt(f[1]!.split(':')[1]!, 16);
    const remote = parseInt(f[2]!.split(':')[1]!, 16);
    if (local === serverPort && remote === port) inode = f[9];
  }
  if (inode === undefined) return undefined;
  for (const pid of everyProcess(on)) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`))
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * The answer of process `pid` to a request: connections are opened until that
 * process takes one (as a harmless request on it shows), and the request is sent on it.
 */
async function answerFrom(
  on: Served,
  pid: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
) {
  for (let i = 0; i < 500; i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      if ((await exchange(on, agent, '/nix-cache-info')).pid !== pid) continue;
      return (await exchange(on, agent, path, headers, method)).answer;
    } finally {
      agent.destroy();
    }
  }
  throw new Error(`process ${pid} took none of 500 connections`);
}

/** Every process serving the port: this one and the helpers. */
const everyProcess = (on: Served) => [process.pid, ...on.lc.listening.cacheHelperPids!()];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Where a suite's coordinator keeps its state: SQLite and a data directory, or PostgreSQL and an object store. */
const SETUPS = [
  { name: 'SQLite, data directory', dialect: 'sqlite' as const, s3: false },
  { name: 'PostgreSQL, object store', dialect: 'postgres' as const, s3: true },
];

describe.each(SETUPS)('cache helper processes ($name)', (setup) => {
  let on: Served;
  let target: S3TestTarget | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'gbc-cache-helpers-'));
  const outPath = `/gnu/store/${hashPart()}-helped`;
  let nar: Buffer;
  const narinfoPath = () => `/${outPath.slice(11, 43)}.narinfo`;

  beforeAll(async () => {
    if (setup.s3) target = await startS3Target();
    const lc = await startListening(
      setup.dialect,
      {
        cacheProcesses: 3,
        cacheUrl: 'http://127.0.0.1:0',
        ...(target === undefined ? {} : { storage: target.url(), s3: { credentials: target.credentials } }),
        cache: {
          signingKey: nixKey,
          guixSigningKey: generateGuixSecretKey(),
          guixSigningHost: 'gbc-test',
          flavour: 'nix',
        },
      },
      { timeouts: { headersMs: 2000 } },
    );
    on = { lc, cacheUrl: lc.listening.cacheUrl! };
    nar = makeNar(dir, 256 * 1024);
    await storeOutput(lc.c.context, { storePath: outPath, nar, compressions: ['none', 'gzip'] });
  }, 120_000);

  afterAll(async () => {
    const started = on as Served | undefined; // undefined when beforeAll failed
    const pids = started?.lc.listening.cacheHelperPids?.() ?? [];
    await started?.lc.close();
    expect(pids.filter(alive)).toEqual([]);
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every process answers with the same bytes and validators', async () => {
    expect(on.lc.listening.cacheHelperPids!()).toHaveLength(2);
    const answers = [];
    for (const pid of everyProcess(on)) answers.push(await answerFrom(on, pid, narinfoPath()));
    const [own, ...theirs] = answers;
    expect(own!.status).toBe(200);
    for (const a of theirs) {
      expect(a.status).toBe(200);
      expect(a.body.equals(own!.body)).toBe(true);
      expect(a.headers.etag).toBe(own!.headers.etag);
      expect(a.headers['last-modified']).toBe(own!.headers['last-modified']);
      expect(a.headers['cache-control']).toBe(own!.headers['cache-control']);
    }
    const info = parseNarInfo(own!.body.toString(), { storeDir: '/gnu/store' });
    expect(info.sigs.some((s) => s.startsWith('gbc-helpers-1:'))).toBe(true);
    for (const pid of everyProcess(on)) {
      // The Guix layout (the other key, through the Hono route: a query string), a 304, nix-cache-info.
      const guix = await answerFrom(on, pid, `${narinfoPath()}?flavour=guix`);
      expect(guix.status).toBe(200);
      expect(guix.body.toString()).toContain('Signature: 1;gbc-test;');
      expect(guix.body.toString()).toContain(`StorePath: ${outPath}`);
      expect((await answerFrom(on, pid, narinfoPath(), { 'If-None-Match': own!.headers.etag! })).status).toBe(
        304,
      );
      expect((await answerFrom(on, pid, '/nix-cache-info')).body.toString()).toContain(
        'StoreDir: /gnu/store',
      );
    }
  });

  it('every process sends NARs whole and in ranges from the shared storage', async () => {
    const narPath = `/nar/none/${outPath.slice(11)}`;
    for (const pid of everyProcess(on)) {
      const whole = await answerFrom(on, pid, narPath);
      expect(whole.status).toBe(200);
      expect(whole.body.equals(nar)).toBe(true);
      const part = await answerFrom(on, pid, narPath, { Range: 'bytes=1000-1999' });
      expect(part.status).toBe(206);
      expect(part.body.equals(nar.subarray(1000, 2000))).toBe(true);
      expect((await answerFrom(on, pid, narPath, { Range: `bytes=${nar.length}-` })).status).toBe(416);
      expect((await answerFrom(on, pid, `/nar/gzip/${outPath.slice(11)}`)).status).toBe(200);
      expect((await answerFrom(on, pid, `/${'0'.repeat(32)}.narinfo`)).status).toBe(404);
    }
  });

  it('every process refuses hostile requests alike, and keeps serving', async () => {
    const cases = [
      ['/nar/none/..%2F..%2Fetc%2Fpasswd', 'GET', {}],
      ['/nar/bogus/x', 'GET', {}],
      [`${narinfoPath()}?flavour=other`, 'GET', {}],
      [narinfoPath(), 'DELETE', {}],
      // Headers past Node's limit: 431 from each process's own server.
      [narinfoPath(), 'GET', { 'X-Filler': 'x'.repeat(20_000) }],
    ] as const;
    for (const [path, method, headers] of cases) {
      const statuses = [];
      for (const pid of everyProcess(on))
        statuses.push((await answerFrom(on, pid, path, headers, method)).status);
      expect(statuses[0]).toBeGreaterThanOrEqual(400);
      expect(new Set(statuses).size).toBe(1);
    }
    // Headers that never end are cut by whichever process took the connection (Node's headers timeout: 408 or a close).
    const cut = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve) => {
            const s = connect(Number(new URL(on.cacheUrl).port), '127.0.0.1', () =>
              s.write('GET / HTTP/1.1\r\nHost: x\r\n'),
            );
            let got = '';
            s.on('data', (d: Buffer) => (got += d.toString()));
            s.on('close', () => resolve(got));
            s.on('error', () => undefined);
          }),
      ),
    );
    for (const got of cut) expect(got === '' || got.startsWith('HTTP/1.1 408')).toBe(true);
    for (const pid of everyProcess(on)) expect((await answerFrom(on, pid, narinfoPath())).status).toBe(200);
  }, 120_000);

  it('every process forgets an output retention removes before its notification resolves', async () => {
    const hash = hashPart();
    const storePath = `/gnu/store/${hash}-old`;
    await storeAgedOutput(on.lc.c.context, storePath, 10 * 86_400_000);
    // Every process holds it now (each would serve it from memory for 45 s or more).
    for (const pid of everyProcess(on))
      expect((await answerFrom(on, pid, `/${hash}.narinfo`)).status).toBe(200);
    const removed = await runRetention({
      datastore: on.lc.c.context.datastore,
      storage: on.lc.c.context.storage.store,
      policy: resolveRetentionPolicy({ outputDays: 7 }),
      now: () => Date.now(),
      onOutputsRemoved: (paths) => on.lc.c.context.outputRemovals.notify(paths),
    });
    expect(removed.removedOutputs).toEqual([storePath]);
    for (const pid of everyProcess(on))
      expect((await answerFrom(on, pid, `/${hash}.narinfo`)).status).toBe(404);
  });

  /** Waits for a helper serving in place of `gone` beside `kept`, and checks that it answers. */
  const expectReplaced = async (gone: number, kept: number) => {
    const [fresh] = await until(`a helper in place of ${gone}`, () => {
      const now = on.lc.listening.cacheHelperPids!();
      return now.length === 2 && now.includes(kept) && !now.includes(gone)
        ? now.filter((p) => p !== kept)
        : undefined;
    });
    expect((await answerFrom(on, fresh!, narinfoPath())).status).toBe(200);
  };

  it('a helper that is killed is replaced, and the new one serves', async () => {
    const [victim, other] = on.lc.listening.cacheHelperPids!();
    const metrics = () => fetch(`${on.lc.listening.agentUrl}/metrics`).then((r) => r.text());
    expect(await metrics()).toMatch(/^gbc_cache_helper_processes 2$/m);
    const restartsBefore = Number(/^gbc_cache_helper_restarts_total (\d+)$/m.exec(await metrics())![1]);
    process.kill(victim!, 'SIGKILL');
    await expectReplaced(victim!, other!);
    // The metrics count it.
    const after = await metrics();
    expect(after).toMatch(/^gbc_cache_helper_processes 2$/m);
    expect(after).toContain(`gbc_cache_helper_restarts_total ${restartsBefore + 1}`);
  });

  it('a helper that does not answer a removal in time is killed and replaced', async () => {
    const [stuck, other] = on.lc.listening.cacheHelperPids!();
    process.kill(stuck!, 'SIGSTOP');
    try {
      // Resolves: the stopped helper is killed after the ack timeout, the other one answered.
      await on.lc.c.context.outputRemovals.notify([`/gnu/store/${hashPart()}-never-held`]);
      expect(alive(stuck!)).toBe(false);
    } finally {
      if (alive(stuck!)) process.kill(stuck!, 'SIGCONT');
    }
    await expectReplaced(stuck!, other!);
  }, 60_000);
});

describe('listen with cacheProcesses', () => {
  it('refuses helpers on an in-memory database, which no other process can open', async () => {
    const place = mkdtempSync(join(tmpdir(), 'gbc-cache-memory-'));
    const c = await createCoordinator({
      databaseUri: 'sqlite::memory:',
      dataDir: join(place, 'data'),
      cwd: place,
      logger: silentLogger,
      cacheProcesses: 2,
    });
    try {
      await c.start();
      await expect(
        listen(c, {
          agentUrl: 'http://127.0.0.1:0',
          clientUrl: 'http://127.0.0.1:0',
          cacheUrl: 'http://127.0.0.1:0',
        }),
      ).rejects.toThrow(/sqlite::memory:/);
    } finally {
      await c.stop();
      rmSync(place, { recursive: true, force: true });
    }
  });

  it('fails to start, naming the cause, when a helper cannot open the database, and leaves no process', async () => {
    const socket = createServer();
    await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve));
    const spawned = new Set<number>();
    try {
      const place = mkdtempSync(join(tmpdir(), 'gbc-cache-unreachable-'));
      const starting = startCacheProcesses({
        server: socket,
        count: 2,
        spec: {
          // Nothing listens on port 1.
          databaseUri: 'postgres://gbc@127.0.0.1:1/gbc',
          cwd: place,
          storage: { dataDir: place },
          cache: sendCacheOptions(await resolveCacheOptions({ signingKey: nixKey })),
        },
        removals: createOutputRemovals(),
        logger: silentLogger,
        onSpawn: (pid) => spawned.add(pid),
      });
      await expect(starting).rejects.toThrow(/could not start: cannot reach database/);
      expect(spawned.size).toBe(2);
      expect([...spawned].filter(alive)).toEqual([]);
      rmSync(place, { recursive: true, force: true });
    } finally {
      socket.close();
    }
  }, 120_000);

  it('keeps replacing a helper whose restarts fail, until one serves again', async () => {
    const place = mkdtempSync(join(tmpdir(), 'gbc-cache-restarts-'));
    const dbFile = join(place, 'gbc.db');
    await (await openDatastore(`sqlite://${dbFile}`)).close();
    // This process answers 503 on the shared socket: a 200 comes from the helper.
    const socket = createHttpServer((_req, res) => res.writeHead(503, { Connection: 'close' }).end());
    await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve));
    const failed: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => void failed.push(message) };
    const group = await startCacheProcesses({
      server: socket,
      count: 1,
      spec: {
        databaseUri: `sqlite://${dbFile}`,
        cwd: place,
        storage: { dataDir: place },
        cache: sendCacheOptions(await resolveCacheOptions({ signingKey: nixKey })),
      },
      removals: createOutputRemovals(),
      logger,
    });
    try {
      const [first] = group.pids();
      // The database cannot be opened for a while: a directory stands in its place.
      renameSync(dbFile, `${dbFile}.away`);
      mkdirSync(dbFile);
      process.kill(first!, 'SIGKILL');
      await until('two failed restarts', () =>
        failed.filter((m) => m === 'cache helper process restart failed').length >= 2 ? true : undefined,
      );
      expect(group.pids()).toEqual([]);
      rmdirSync(dbFile);
      renameSync(`${dbFile}.away`, dbFile);
      const [fresh] = await until('a helper serving again', () => {
        const now = group.pids();
        return now.length === 1 ? now : undefined;
      });
      expect(fresh).not.toBe(first);
      expect(group.restarts()).toBeGreaterThanOrEqual(3);
      const port = (socket.address() as { port: number }).port;
      await until('an answer from the new helper', async () => {
        const r = await fetch(`http://127.0.0.1:${port}/nix-cache-info`, {
          headers: { Connection: 'close' },
        });
        return r.status === 200 ? true : undefined;
      });
    } finally {
      await group.stop();
      socket.close();
      rmSync(place, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a helper count that is not a whole number from 1 to 64 or auto', async () => {
    for (const n of [0, -1, 1.5, 65, Number.NaN])
      expect(() => resolveConfig({ databaseUri: 'sqlite::memory:', cacheProcesses: n })).toThrow(
        /cacheProcesses/,
      );
    // `auto`: one per core this process may use.
    expect(resolveConfig({ databaseUri: 'sqlite::memory:', cacheProcesses: 'auto' }).cacheProcesses).toBe(
      Math.min(64, availableParallelism()),
    );
  });
});
