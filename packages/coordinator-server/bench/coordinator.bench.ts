// Benchmark (issue 4): queued builds over 4 systems with tags, inserted with
// the datastore's bulk functions; coordinator start (queue rebuild) time;
// agents fetching over real HTTP on loopback with bounded concurrency:
// fetch-builds p99, allocations per second, resident memory. Sizes from
// GBC_BENCH_BUILDS (default 1,000,000) and GBC_BENCH_AGENTS (default 1000).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createAgent, createAgentPassword, createBuilds, openDatastore, recordDerivations } from '@gbc/datastore';
import { createCoordinator, listen, silentLogger } from '../src/index.js';
import { fakeDrv } from '../src/agent-api/test-support.js';

const BUILDS = Number(process.env.GBC_BENCH_BUILDS ?? 1_000_000);
const AGENTS = Number(process.env.GBC_BENCH_AGENTS ?? 1000);
const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'i686-linux', 'riscv64-linux'];

async function database(dialect: 'sqlite' | 'postgres', dir: string): Promise<{ uri: string; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') return { uri: `sqlite://${join(dir, 'bench.db')}`, drop: async () => undefined };
  const base = process.env.GBC_BENCH_POSTGRES_URI;
  if (base === undefined) throw new Error('GBC_BENCH_POSTGRES_URI is not set');
  const name = `gbc_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (q: string) => { execFileSync('psql', [base, '-qc', q], { stdio: 'pipe' }); };
  await admin(`create database ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return { uri: u.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

async function run(dialect: 'sqlite' | 'postgres'): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-bench-'));
  const db0 = await database(dialect, dir);
  try {
    const ds = await openDatastore(db0.uri);
    const t0 = performance.now();
    for (let i = 0; i < BUILDS; i += 5000) {
      const drvs = Array.from({ length: Math.min(5000, BUILDS - i) }, (_, k) => fakeDrv(`b${i + k}`, [], SYSTEMS[(i + k) % 4]));
      await recordDerivations(ds.db, drvs);
      await createBuilds(ds.db, drvs.map((d, k) => ({ derivationPath: d.path, priority: (i + k) % 10, tags: [{ key: 'project', value: `p${(i + k) % 20}` }] })));
    }
    const insertS = (performance.now() - t0) / 1000;
    const agents: { id: string; auth: string; system: string }[] = [];
    const password = await createAgentPassword(ds.db, (await createAgent(ds.db, { name: 'template' })).id);
    void password;
    for (let i = 0; i < AGENTS; i++) {
      const a = await createAgent(ds.db, { name: `agent-${i}`, systems: [SYSTEMS[i % 4]!] });
      const pw = await createAgentPassword(ds.db, a.id);
      agents.push({ id: a.id, auth: `Basic ${Buffer.from(`${a.id}:${pw}`).toString('base64')}`, system: SYSTEMS[i % 4]! });
    }
    await ds.close();
    const c = await createCoordinator({ databaseUri: db0.uri, dataDir: join(dir, 'data'), logger: silentLogger, cwd: dir, agentAuth: { cacheMs: 3_600_000 } });
    const started = await c.start();
    const server = await listen(c, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' });
    const latencies: number[] = [];
    let allocated = 0;
    const rounds = 3;
    const concurrency = 32;
    // Warm-up: one status report per agent verifies its password (scrypt) once; the auth cache keeps it.
    let w = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (w < agents.length) {
        const a = agents[w++]!;
        await (await fetch(`${server.agentUrl}/agent/${a.id}/status`, { method: 'PUT', headers: { Authorization: a.auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ load1: 0, builds: [] }) })).arrayBuffer();
      }
    }));
    const tStart = performance.now();
    let next = 0;
    const jobs = Array.from({ length: rounds }, () => agents).flat();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const a = jobs[next++]!;
        const t = performance.now();
        const res = await fetch(`${server.agentUrl}/agent/${a.id}/fetch-builds`, { method: 'POST', headers: { Authorization: a.auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ count: 4, systems: [a.system] }) });
        const body = (await res.json()) as { builds?: unknown[] };
        latencies.push(performance.now() - t);
        allocated += body.builds?.length ?? 0;
      }
    }));
    const elapsed = (performance.now() - tStart) / 1000;
    const steady = latencies.sort((x, y) => x - y);
    const p = (q: number) => steady[Math.min(steady.length - 1, Math.floor(q * steady.length))] ?? 0;
    const rss = process.memoryUsage().rss / 2 ** 20;
    await server.close();
    await c.stop();
    const ok = (b: boolean) => (b ? 'met' : 'NOT met');
    return [
      `| ${dialect} | ${BUILDS} | ${insertS.toFixed(1)} s | ${(started.rebuildMs / 1000).toFixed(2)} s (${ok(started.rebuildMs < 30_000)}) | ${p(0.5).toFixed(2)} / ${p(0.99).toFixed(2)} ms (${ok(p(0.99) < 10)}) | ${(allocated / elapsed).toFixed(0)}/s (${ok(allocated / elapsed >= 5000)}) | ${rss.toFixed(0)} MB (${ok(rss < 1536)}) |`,
    ];
  } finally {
    await db0.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [...(await run('sqlite')), ...(await run('postgres'))];
console.log(`## Coordinator: queue rebuild and fetch-builds over HTTP (issue 4)

${BUILDS} queued builds over 4 systems with a tag, ${AGENTS} agents, each fetching 4 builds 3 times over loopback HTTP with 32 requests in flight (keep-alive).
Targets: start < 30 s, fetch-builds p99 < 10 ms (passwords verified once in a warm-up status report), >= 5,000 allocations/s, RSS < 1.5 GB.

| dialect | queued | bulk insert | start (rebuild) | fetch p50 / p99 | allocations | RSS |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`);
