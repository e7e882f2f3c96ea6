// Benchmark of the web dashboard at scale, on SQLite (a file) and PostgreSQL:
// 1,000,000 builds (most finished over 30 days, 10,000 of them in the chart's
// last 3 hours; 20,000 queued, 200 running) over 10,000 derivations, tagged.
// A started coordinator (its scheduler loaded from that database) renders the
// overview, the builds list (unfiltered, by state, by system and state, by
// tag, and the next page through the cursor) and build pages, each through
// `clientApp.request()` as a browser's GET: HTML out, nothing left out.
// Prints a Markdown section.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { Db } from '@gbc/datastore';
import { createCoordinator, type Coordinator } from '../src/coordinator/create-coordinator.js';
import { silentLogger } from '../src/logger.js';

const TOTAL = 1_000_000;
const DERIVATIONS = 10_000;
const QUEUED = 20_000;
const STARTED = 200;
const RECENT = 10_000;
const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'i686-linux', 'powerpc64le-linux'];
const ROUNDS = 30;
const TARGET_MS = 200;
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Place {
  readonly uri: string;
  readonly dir: string;
  drop(): void;
}

function place(dialect: 'sqlite' | 'postgres'): Place {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-bench-dashboard-'));
  if (dialect === 'sqlite')
    return { uri: `sqlite://${join(dir, 'gbc.db')}`, dir, drop: () => rmSync(dir, { recursive: true }) };
  const base = process.env.GBC_BENCH_POSTGRES_URI;
  if (base === undefined || base === '')
    throw new Error('GBC_BENCH_POSTGRES_URI is not set (pnpm bench sets it)');
  const name = `gbc_bench_web_${randomBytes(4).toString('hex')}`;
  execFileSync('psql', [base, '-qc', `create database ${name}`], { stdio: 'pipe' });
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    uri: u.toString(),
    dir,
    drop: () => {
      execFileSync('psql', [base, '-qc', `drop database if exists ${name} with (force)`], { stdio: 'pipe' });
      rmSync(dir, { recursive: true });
    },
  };
}

async function open(p: Place, now: number): Promise<Coordinator> {
  const c = await createCoordinator({
    databaseUri: p.uri,
    dataDir: join(p.dir, 'data'),
    cwd: p.dir,
    logger: silentLogger,
    clock: { now: () => now },
  });
  await c.start();
  return c;
}

/** SQL for a series of integers from..to, and a random integer below n, in the dialect of `pg`. */
function dialectSql(pg: boolean) {
  return {
    series: (from: number, to: number) =>
      pg
        ? sql`select generate_series(${from}::bigint, ${to}::bigint) as i`
        : sql`with recursive s(i) as (select ${from} union all select i + 1 from s where i < ${to}) select i from s`,
    rnd: (n: number) =>
      pg ? sql`floor(random() * ${sql.lit(n)})::bigint` : sql`abs(random() % ${sql.lit(n)})`,
    /** The integer expression `expr` (trusted text) as `width` digits with leading zeros. */
    pad: (expr: string, width: number) =>
      pg
        ? sql`lpad((${sql.raw(expr)})::text, ${sql.lit(width)}, '0')`
        : sql`substr(${sql.lit('0'.repeat(width))} || (${sql.raw(expr)}), ${sql.lit(-width)}, ${sql.lit(width)})`,
    uuid: pg
      ? sql`gen_random_uuid()::text`
      : sql`lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`,
  };
}

/**
 * Fills the database: derivations, then builds in slices of 100,000 (ids in
 * creation order), the newest QUEUED + STARTED unfinished, RECENT finished in
 * the last 3 hours, the rest finished over 30 days; two tags each.
 */
async function fill(db: Db, pg: boolean, now: number): Promise<void> {
  const d = dialectSql(pg);
  await sql`insert into derivations (path, name, system, fixed_output, text)
    select '/gnu/store/' || ${d.pad('g.i', 32)} || '-bench-' || g.i || '.drv',
           'bench-' || g.i, ${sql.lit(SYSTEMS[0])}, 0, ${pg ? sql`'\\x00'::bytea` : sql`x'00'`}
    from (${d.series(1, DERIVATIONS)}) g`.execute(db);
  const day = 86_400_000;
  const start = now - 30 * day;
  const step = 100_000;
  for (let from = 1; from <= TOTAL; from += step) {
    const to = Math.min(TOTAL, from + step - 1);
    await db.transaction().execute(async (trx) => {
      const before = Number(
        (await sql<{ m: number | null }>`select max(id) as m from builds`.execute(trx)).rows[0]!.m ?? 0,
      );
      const unfinished = TOTAL - QUEUED - STARTED;
      const recent = unfinished - RECENT;
      await sql`insert into builds (uuid, derivation_id, system, priority, created_at, state, ended_at)
        select ${d.uuid}, 1 + (g.i % ${sql.lit(DERIVATIONS)}),
          case g.i % 4 when 0 then ${SYSTEMS[0]} when 1 then ${SYSTEMS[1]} when 2 then ${SYSTEMS[2]} else ${SYSTEMS[3]} end,
          ${d.rnd(100)}, ${sql.lit(start)} + g.i * ${sql.lit(Math.floor((30 * day) / TOTAL))},
          case when g.i > ${sql.lit(unfinished + STARTED)} then 'queued' when g.i > ${sql.lit(unfinished)} then 'started'
               when ${d.rnd(10)} < 9 then 'succeeded' else 'failed' end,
          case when g.i > ${sql.lit(unfinished)} then null
               when g.i > ${sql.lit(recent)} then ${sql.lit(now - 3 * 3_600_000)} + ${d.rnd(3 * 3_600_000)}
               else ${sql.lit(start)} + g.i * ${sql.lit(Math.floor((30 * day) / TOTAL))} + 600000 end
        from (${d.series(from, to)}) g`.execute(trx);
      await sql`insert into build_tags (build_id, key, value) select id, 'project', 'p' || (id % 50) from builds where id > ${before}`.execute(
        trx,
      );
      await sql`insert into build_tags (build_id, key, value) select id, 'branch', 'b' || (id % 3) from builds where id > ${before}`.execute(
        trx,
      );
    });
    log(`  filled to ${to}`);
  }
  // The started builds are held by 20 agents, through open attempts (as the agent API leaves them).
  for (let a = 0; a < 20; a++)
    await sql`insert into agents (id, name, description, active, created_at)
      values (${`00000000-0000-4000-8000-${String(a).padStart(12, '0')}`}, ${`bench-agent-${a}`}, null, 1, ${now})`.execute(
      db,
    );
  await sql`insert into attempts (uuid, build_id, agent_id, allocated_at, lease_expires_at, started_at)
    select ${d.uuid}, id, '00000000-0000-4000-8000-0000000000' || ${d.pad('id % 20', 2)}, ${now}, ${now + 600_000}, ${now}
    from builds where state = 'started'`.execute(db);
  await sql`analyze`.execute(db);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Timing {
  readonly name: string;
  /** Median CPU time of this process (the coordinator) per page, ms. */
  readonly cpu: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

/** GETs each of `paths` (in turn, ROUNDS times over) as a browser with `cookie`; every answer must be a 200 page. */
async function time(c: Coordinator, cookie: string, name: string, paths: () => string): Promise<Timing> {
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const path = paths();
    const t = performance.now();
    const cpu = process.cpuUsage();
    const res = await c.clientApp.request(`http://localhost${path}`, { headers: { Cookie: cookie } });
    const html = await res.text();
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000);
    times.push(performance.now() - t);
    if (res.status !== 200 || !html.includes('</html>'))
      throw new Error(`${path} answered ${res.status}: ${html.slice(0, 300)}`);
  }
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return {
    cpu: percentile(cpus, 50),
    name,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times[times.length - 1]!,
    n: times.length,
  };
}

async function run(dialect: 'sqlite' | 'postgres') {
  const p = place(dialect);
  const now = Date.UTC(2026, 11, 7, 12);
  try {
    log(`${dialect}: migrate and fill to ${TOTAL}`);
    const empty = await open(p, now);
    await fill(empty.context.datastore.db, dialect === 'postgres', now);
    await empty.stop();
    log(`${dialect}: start a coordinator on it`);
    const t0 = performance.now();
    const c = await open(p, now);
    const startS = (performance.now() - t0) / 1000;
    try {
      const first = await c.clientApp.request('http://localhost/ui');
      const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
      const t1 = performance.now();
      await (await c.clientApp.request('http://localhost/ui', { headers: { Cookie: cookie } })).text();
      const coldMs = performance.now() - t1;
      const db = c.context.datastore.db;
      const uuids = (
        await db
          .selectFrom('builds')
          .select('uuid')
          .where('id', '>', TOTAL - 50_000)
          .limit(50)
          .execute()
      ).map((r) => r.uuid);
      const list = await (
        await c.clientApp.request('http://localhost/ui/builds?state=failed', { headers: { Cookie: cookie } })
      ).text();
      const next = /<a rel="next" href="([^"]+)"/.exec(list)![1]!.replaceAll('&amp;', '&');
      let k = 0;
      const timings = [
        await time(c, cookie, 'overview', () => '/ui'),
        await time(c, cookie, 'builds, unfiltered (100)', () => '/ui/builds'),
        await time(c, cookie, 'builds, failed', () => '/ui/builds?state=failed'),
        await time(
          c,
          cookie,
          'builds, queued on one system',
          () => `/ui/builds?state=queued&system=${SYSTEMS[k++ % 4]}`,
        ),
        await time(c, cookie, 'builds, by tag', () => `/ui/builds?tag=project%3Dp${k++ % 50}`),
        await time(c, cookie, 'builds, next page (cursor)', () => next),
        await time(c, cookie, 'build page', () => `/ui/build/${uuids[k++ % uuids.length]}`),
      ];
      for (const t of timings)
        log(
          `  ${t.name}: p50 ${t.p50.toFixed(1)} ms, p99 ${t.p99.toFixed(1)} ms, CPU ${t.cpu.toFixed(1)} ms`,
        );
      return { dialect, startS, coldMs, timings };
    } finally {
      await c.stop();
    }
  } finally {
    p.drop();
  }
}

const results = [await run('sqlite'), await run('postgres')];
const ok = (b: boolean) => (b ? 'met' : '**not met**');
const lines = [
  '## Web dashboard at 1,000,000 builds (`packages/coordinator-server/bench/dashboard.bench.ts`)',
  '',
  `${TOTAL.toLocaleString('en')} builds over ${DERIVATIONS.toLocaleString('en')} derivations and 4 systems, two tags each (project: 50 values, branch: 3): ${QUEUED.toLocaleString('en')} queued, ${STARTED} started, ${RECENT.toLocaleString('en')} finished in the chart's last 3 hours, the rest finished over 30 days (90% succeeded). A started coordinator renders each page through \`clientApp.request()\` with a session cookie (client auth off), the whole HTML read; ${ROUNDS} requests per row, one at a time. "First overview" includes the one-time read of the chart's last 3 hours (finish-rate.ts).`,
  '',
  '| dialect | page | p50 ms | p99 ms | max ms | CPU ms (p50) | target (p99) |',
  '|---|---|---|---|---|---|---|',
  ...results.flatMap((r) => [
    `| ${r.dialect} | first overview (once) | ${r.coldMs.toFixed(1)} | | | | |`,
    ...r.timings.map(
      (t) =>
        `| ${r.dialect} | ${t.name} | ${t.p50.toFixed(1)} | ${t.p99.toFixed(1)} | ${t.max.toFixed(1)} | ${t.cpu.toFixed(1)} | < ${TARGET_MS} ms: ${ok(t.p99 < TARGET_MS)} |`,
    ),
  ]),
  '',
  "CPU ms is this process's CPU time per page (the whole coordinator: API, SQLite, rendering; on PostgreSQL the server's own CPU is not included): it depends much less than wall time on the shared machine's load.",
  `Coordinator start on the filled database (scheduler loaded): ${results.map((r) => `${r.dialect} ${r.startS.toFixed(1)} s`).join(', ')}.`,
  `Load average when it ended: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} on ${cpus().length} cores (figures from a shared machine compare only at similar load).`,
];
process.stdout.write(`${lines.join('\n')}\n`);
