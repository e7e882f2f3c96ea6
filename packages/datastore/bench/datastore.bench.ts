// Benchmark of @gbc/datastore on SQLite (a file) and PostgreSQL: bulk insert of
// 100k builds with their derivations (a chain and a wide DAG), then a
// filtered, paginated list at 1,000,000 builds. Prints a Markdown section.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { createBuilds, listBuilds, openDatastore, recordDerivations } from '../src/index.js';
import type { BuildFilter, Datastore, DerivationRecord } from '../src/index.js';
import { fakeChain, fakeWideDag } from '../src/testing/fixtures.js';
import { createTestDatabase } from '../src/testing/test-database.js';

const BULK = 100_000;
const TOTAL = 1_000_000;
const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'i686-linux', 'powerpc64le-linux'];
const log = (s: string) => process.stderr.write(`${s}\n`);

/** CPU time (ms) so far of the PostgreSQL server processes serving `store`'s database (read from /proc: the server is local); 0 on SQLite. */
async function serverCpuMs(store: Datastore): Promise<number> {
  if (store.dialect !== 'postgres') return 0;
  const pids = await sql<{
    pid: number;
  }>`select pid from pg_stat_activity where datname = current_database()`.execute(store.db);
  let ticks = 0;
  for (const { pid } of pids.rows) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  }
  return ticks * 10; // USER_HZ = 100
}

/** Builds per second of one bulk insert: by wall clock, and by CPU time (this process plus, on PostgreSQL, its server processes). */
interface InsertRate {
  readonly wall: number;
  readonly cpu: number;
}

/** Records the derivations and creates one tagged build per derivation, in transactions of 20k. */
async function bulkInsert(
  store: Datastore,
  drvs: readonly DerivationRecord[],
  label: string,
): Promise<InsertRate> {
  const server = await serverCpuMs(store);
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < drvs.length; i += 20_000) {
    const part = drvs.slice(i, i + 20_000);
    await store.transaction(async (trx) => {
      await recordDerivations(trx, part);
      await createBuilds(
        trx,
        part.map((d, k) => ({
          derivationPath: d.path,
          priority: k % 10,
          tags: [
            { key: 'bench', value: label },
            { key: 'project', value: `p${k % 50}` },
          ],
        })),
      );
    });
  }
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 + (await serverCpuMs(store)) - server;
  return { wall: BULK / (wall / 1000), cpu: BULK / (cpuMs / 1000) };
}

/** Fills the builds table up to TOTAL rows with SQL-generated builds and tags over the recorded derivations. */
async function fill(store: Datastore): Promise<void> {
  const have = Number(
    (await sql<{ n: number }>`select count(*) as n from builds`.execute(store.db)).rows[0]!.n,
  );
  const range = (
    await sql<{ lo: number; hi: number }>`select min(id) as lo, max(id) as hi from derivations`.execute(
      store.db,
    )
  ).rows[0]!;
  const lo = Number(range.lo);
  const span = Number(range.hi) - lo + 1;
  const step = 100_000;
  for (let from = have; from < TOTAL; from += step) {
    const to = Math.min(TOTAL, from + step) - 1;
    const uuid =
      store.dialect === 'postgres' ? sql`gen_random_uuid()::text` : sql`lower(hex(randomblob(16)))`;
    const series =
      store.dialect === 'postgres'
        ? sql`select generate_series(${from}::int, ${to}::int) as i`
        : sql`with recursive s(i) as (select ${from} union all select i + 1 from s where i < ${to}) select i from s`;
    // Independent random columns: no accidental correlation between filters.
    const rnd = (n: number) =>
      store.dialect === 'postgres'
        ? sql`floor(random() * ${sql.lit(n)})::int`
        : sql`abs(random() % ${sql.lit(n)})`;
    await store.transaction(async (trx) => {
      const before = Number(
        (await sql<{ m: number | null }>`select max(id) as m from builds`.execute(trx)).rows[0]!.m ?? 0,
      );
      await sql`insert into builds (uuid, derivation_id, system, priority, created_at, state)
        select ${uuid}, ${sql.lit(lo)} + (g.i % ${sql.lit(span)}), case ${rnd(4)} when 0 then ${SYSTEMS[0]} when 1 then ${SYSTEMS[1]} when 2 then ${SYSTEMS[2]} else ${SYSTEMS[3]} end,
               ${rnd(100)}, ${sql.lit(1_700_000_000_000)} + g.i, case when ${rnd(10)} < 6 then 'queued' when ${rnd(10)} < 9 then 'succeeded' else 'failed' end
        from (${series}) g`.execute(trx);
      await sql`insert into build_tags (build_id, key, value) select id, 'project', 'p' || ${rnd(50)} from builds where id > ${before}`.execute(
        trx,
      );
      await sql`insert into build_tags (build_id, key, value) select id, 'branch', 'b' || ${rnd(3)} from builds where id > ${before}`.execute(
        trx,
      );
    });
    log(`  filled to ${to + 1}`);
  }
  await sql`analyze`.execute(store.db);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Times filtered list queries, each followed by three more pages through the cursor. */
async function listLatency(store: Datastore): Promise<{ p50: number; p99: number; n: number }> {
  const filters: ((i: number) => BuildFilter)[] = [
    (i) => ({
      states: ['queued'],
      systems: [SYSTEMS[i % 4]!],
      tags: [{ key: 'project', value: `p${i % 50}` }],
      limit: 50,
    }),
    (i) => ({
      states: ['queued'],
      systems: [SYSTEMS[i % 4]!],
      notTags: [{ key: 'branch', value: 'b0' }],
      limit: 50,
    }),
    (i) => ({ tags: [{ key: 'project', value: `p${i % 50}` }], priorityMin: 20, priorityMax: 60, limit: 50 }),
    (i) => ({ states: ['failed'], createdAfter: 1_700_000_000_000 + ((i * 7919) % TOTAL), limit: 50 }),
    () => ({ limit: 100 }),
  ];
  const times: number[] = [];
  const byShape = filters.map(() => [] as number[]);
  for (let i = 0; i < 400; i++) {
    let filter = filters[i % filters.length]!(i);
    for (let page = 0; page < 4; page++) {
      const t = performance.now();
      const r = await listBuilds(store.db, filter);
      times.push(performance.now() - t);
      byShape[i % filters.length]!.push(performance.now() - t);
      if (r.nextCursor === null) break;
      filter = { ...filter, after: r.nextCursor };
    }
  }
  times.sort((a, b) => a - b);
  for (const [k, shape] of byShape.entries()) {
    shape.sort((a, b) => a - b);
    log(
      `  shape ${k + 1}: p50 ${percentile(shape, 50).toFixed(2)} ms, p99 ${percentile(shape, 99).toFixed(2)} ms, max ${shape[shape.length - 1]!.toFixed(2)} ms (n ${shape.length})`,
    );
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), n: times.length };
}

async function run(dialect: 'sqlite' | 'postgres') {
  let uri: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gbc-bench-'));
    uri = `sqlite://${join(dir, 'bench.db')}`;
    cleanup = () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    };
  } else {
    const db = await createTestDatabase('postgres', 'GBC_BENCH_POSTGRES_URI');
    uri = db.uri;
    cleanup = db.drop;
  }
  const store = await openDatastore(uri);
  try {
    log(`${dialect}: chain`);
    const chain = await bulkInsert(store, fakeChain(BULK, 'chain'), 'chain');
    log(`${dialect}: wide DAG`);
    const dag = await bulkInsert(store, fakeWideDag(BULK, 4, 'dag'), 'dag');
    log(`${dialect}: fill to ${TOTAL}`);
    await fill(store);
    const count = Number(
      (await sql<{ n: number }>`select count(*) as n from builds`.execute(store.db)).rows[0]!.n,
    );
    log(`${dialect}: list at ${count}`);
    await listLatency(store); // warm-up
    const list = await listLatency(store);
    log(
      `${dialect}: chain ${Math.round(chain.wall)}/s (CPU ${Math.round(chain.cpu)}/s), dag ${Math.round(dag.wall)}/s (CPU ${Math.round(dag.cpu)}/s), list p50 ${list.p50.toFixed(2)} p99 ${list.p99.toFixed(2)}`,
    );
    return { dialect, chain, dag, count, list };
  } finally {
    await store.close();
    await cleanup();
  }
}

const results = [await run('sqlite'), await run('postgres')];
const target = (d: string) => (d === 'sqlite' ? 20_000 : 5_000);
const ok = (b: boolean) => (b ? 'met' : '**not met**');
const rate = (r: InsertRate) =>
  `${Math.round(r.wall).toLocaleString('en')} (${Math.round(r.cpu).toLocaleString('en')})`;
const lines = [
  '## Datastore: bulk insert and filtered listing (`packages/datastore/bench/datastore.bench.ts`)',
  '',
  `Bulk insert: ${BULK.toLocaleString('en')} builds with their derivations (one output each, two tags per build), in transactions of 20,000; chain = each derivation depends on the previous one, wide DAG = up to 4 random earlier inputs each. Each transaction records the derivations and creates their builds (which find the derivations' ids recorded in it); the synthetic paths are flat strings, as parsed ones are. Listing: ${TOTAL.toLocaleString('en')} builds over 4 systems, tags project (50 values) and branch (3 values); 5 filter shapes (tag+state+system, not-tag, tag+priority range, state+created-after, unfiltered), first page then up to 3 more pages through the keyset cursor, 50–100 rows a page.`,
  '',
  '| dialect | chain builds/s (per CPU-s) | wide DAG builds/s (per CPU-s) | target builds/s | builds in table | list p50 ms | list p99 ms (n) | target p99 |',
  '|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.dialect} | ${rate(r.chain)} | ${rate(r.dag)} | ≥ ${target(r.dialect).toLocaleString('en')}: ${ok(Math.min(r.chain.wall, r.dag.wall) >= target(r.dialect))} | ${r.count.toLocaleString('en')} | ${r.list.p50.toFixed(2)} | ${r.list.p99.toFixed(2)} (${r.list.n}) | < 20 ms: ${ok(r.list.p99 < 20)} |`,
  ),
  '',
  'SQLite: a file in WAL mode, synchronous=NORMAL. PostgreSQL: the local server, a fresh database.',
  "Builds/s are by wall clock (what the target is about); in parentheses, builds per second of CPU time (the benchmark process, plus on PostgreSQL its server processes), which depends much less on the machine's load.",
  `Load average when it ended: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} on ${cpus().length} cores (figures from a shared machine compare only at similar load).`,
];
process.stdout.write(`${lines.join('\n')}\n`);
