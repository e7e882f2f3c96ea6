// Benchmark of the client API's submission path through app.request(), on
// SQLite and PostgreSQL: uploading a 2,000-derivation /gnu/store DAG (checked
// against its paths and output paths), verifying a dependent with a cold memo
// of modulo hashes (a restarted coordinator), submitting a build with
// ensure-all-related (2,000 builds in one transaction), and `why` / list latency.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDerivationText } from '@gbc/protocol';
import { createCoordinator } from '../src/coordinator/create-coordinator.js';
import type { Coordinator } from '../src/coordinator/create-coordinator.js';
import { silentLogger } from '../src/logger.js';
import { syntheticDerivation } from '../src/client-api/test-support.js';
import type { SyntheticDerivation } from '../src/client-api/test-support.js';

const N = 2000;
const BATCH = 500;

interface Row {
  dialect: string;
  uploadPerS: number;
  coldCheckMs: number;
  submitMs: number;
  related: number;
  whyP99Ms: number;
  listP99Ms: number;
}

function dag(tag: string): SyntheticDerivation[] {
  const out: SyntheticDerivation[] = [];
  for (let i = 0; i < N; i++) {
    const inputs = new Set<SyntheticDerivation>();
    // The previous one (so the whole DAG is the last one's closure) and two others.
    if (i > 0) inputs.add(out[i - 1]!);
    for (let k = 0; k < Math.min(2, i); k++) inputs.add(out[(i * 7919 + k * 104_729) % i]!);
    out.push(syntheticDerivation(`bench-${tag}-${i}`, [...inputs]));
  }
  return out;
}

async function open(databaseUri: string, dir: string): Promise<Coordinator> {
  const c = await createCoordinator({
    databaseUri,
    dataDir: join(dir, 'data'),
    logger: silentLogger,
    cwd: dir,
    jsonBodyBytes: 64 * 1024 * 1024,
  });
  await c.start();
  return c;
}

const post = (c: Coordinator, path: string, body: unknown) =>
  c.clientApp.request(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

async function run(dialect: 'sqlite' | 'postgres'): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-bench-client-'));
  let uri = `sqlite://${join(dir, 'gbc.db')}`;
  let drop = (): void => undefined;
  if (dialect === 'postgres') {
    const base = process.env.GBC_BENCH_POSTGRES_URI;
    if (base === undefined || base === '')
      throw new Error('GBC_BENCH_POSTGRES_URI is not set (pnpm bench sets it)');
    const name = `gbc_bench_client_${randomBytes(4).toString('hex')}`;
    execFileSync('psql', [base, '-qc', `create database ${name}`], { stdio: 'pipe' });
    const u = new URL(base);
    u.pathname = `/${name}`;
    uri = u.toString();
    drop = () =>
      execFileSync('psql', [base, '-qc', `drop database if exists ${name} with (force)`], { stdio: 'pipe' });
  }
  try {
    const drvs = dag(dialect);
    let c = await open(uri, dir);
    let t0 = performance.now();
    for (let i = 0; i < N; i += BATCH) {
      const res = await post(c, '/derivations', {
        derivations: drvs
          .slice(i, i + BATCH)
          .map((d) => ({ path: d.path, text: encodeDerivationText(d.bytes) })),
      });
      if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
    }
    const uploadPerS = N / ((performance.now() - t0) / 1000);
    await c.stop();
    c = await open(uri, dir);
    const top = syntheticDerivation(`bench-${dialect}-top`, drvs.slice(-3));
    t0 = performance.now();
    const checked = await post(c, '/derivations', {
      derivations: [{ path: top.path, text: encodeDerivationText(top.bytes) }],
    });
    const coldCheckMs = performance.now() - t0;
    if (checked.status !== 200) throw new Error(`cold check failed: ${checked.status}`);
    t0 = performance.now();
    const submitted = (await (
      await post(c, '/builds', {
        derivation: top.path,
        ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds: true,
      })
    ).json()) as { uuid: string; relatedBuilds: string[] };
    const submitMs = performance.now() - t0;
    const whys: number[] = [];
    const lists: number[] = [];
    for (let i = 0; i < 200; i++) {
      t0 = performance.now();
      await c.clientApp.request(
        `/build/${submitted.relatedBuilds[(i * 37) % submitted.relatedBuilds.length]}/why`,
      );
      whys.push(performance.now() - t0);
      t0 = performance.now();
      await c.clientApp.request('/builds?limit=100&state=queued');
      lists.push(performance.now() - t0);
    }
    await c.stop();
    return {
      dialect,
      uploadPerS,
      coldCheckMs,
      submitMs,
      related: submitted.relatedBuilds.length,
      whyP99Ms: p99(whys),
      listP99Ms: p99(lists),
    };
  } finally {
    drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [await run('sqlite'), await run('postgres')];
const met = rows.every((r) => r.uploadPerS >= 500 && r.submitMs < 5000 && r.whyP99Ms < 50);
console.log(`## Client API: submission of a ${N}-derivation DAG

\`node --conditions=source --import tsx packages/coordinator-server/bench/client-submit.bench.ts\`, ${new Date().toISOString().slice(0, 10)}.
Through \`app.request()\` (no sockets): derivations uploaded in batches of ${BATCH}, each checked (path, output paths via modulo hashes)
and recorded; a dependent checked by a restarted coordinator (cold memo: the closure's hashes recomputed from the datastore);
\`POST /builds\` with ensure-all-related (one build per input derivation, one transaction); 200 \`why\` and \`GET /builds\` requests.

| datastore | upload (derivations/s) | cold check of a dependent (ms) | submit + related builds (ms) | related builds | why p99 (ms) | list p99 (ms) |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.dialect} | ${r.uploadPerS.toFixed(0)} | ${r.coldCheckMs.toFixed(0)} | ${r.submitMs.toFixed(0)} | ${r.related} | ${r.whyP99Ms.toFixed(1)} | ${r.listP99Ms.toFixed(1)} |`).join('\n')}

Target (ours, not the issue's): at least 500 derivations/s accepted, the submission under 5 s, \`why\` p99 under 50 ms — **${met ? 'met' : 'not met'}**.`);
