// Benchmark of running-work control on SQLite and PostgreSQL: a retention run
// over 20,000 stored outputs with references and real NAR files (dry run, then
// the real run removing half), and the cost of client-token authentication
// (GET /builds through app.request(), auth off vs a cached bearer token).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordOutputMetadata } from '@gbc/datastore';
import { createClientToken } from '../src/client-auth/client-tokens.js';
import { createManualClock } from '../src/clock.js';
import { createCoordinator } from '../src/coordinator/create-coordinator.js';
import { silentLogger } from '../src/logger.js';
import { runRetention } from '../src/retention/run-retention.js';
import { resolveRetentionPolicy } from '../src/retention/policy.js';

const OUTPUTS = 20_000;
const REQUESTS = 5_000;
const DAY = 86_400_000;
const TARGET_RUN_S = 15;
const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
const hashOf = (i: number): string =>
  Array.from({ length: 32 }, (_, k) => ALPHABET[(Math.floor(i / 32 ** (k % 4)) % 32) ^ (k % 32)]!).join('');

interface Figures {
  dialect: string;
  dryS: number;
  runS: number;
  removed: number;
  authOffRps: number;
  authOnRps: number;
}

async function measure(dialect: 'sqlite' | 'postgres'): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-bench-retention-'));
  let databaseUri = `sqlite://${join(dir, 'gbc.db')}`;
  let drop = (): void => undefined;
  if (dialect === 'postgres') {
    const base = process.env.GBC_BENCH_POSTGRES_URI;
    if (base === undefined || base === '') throw new Error('GBC_BENCH_POSTGRES_URI is not set');
    const name = `gbc_bench_ret_${randomBytes(4).toString('hex')}`;
    execFileSync('psql', [base, '-qc', `create database ${name}`], { stdio: 'pipe' });
    const u = new URL(base);
    u.pathname = `/${name}`;
    databaseUri = u.toString();
    drop = () =>
      execFileSync('psql', [base, '-qc', `drop database if exists ${name} with (force)`], { stdio: 'pipe' });
  }
  const clock = createManualClock(Date.UTC(2026, 10, 27, 12));
  const c = await createCoordinator({
    databaseUri,
    dataDir: join(dir, 'data'),
    logger: silentLogger,
    clock,
    cwd: dir,
    clientTokenCacheMs: 60_000,
  });
  try {
    await c.start();
    const now = clock.now();
    await mkdir(join(dir, 'data', 'nar', 'zstd'), { recursive: true });
    const paths = Array.from({ length: OUTPUTS }, (_, i) => `/gnu/store/${hashOf(i)}-out-${i}`);
    const bytes = new Uint8Array(64);
    for (let i = 0; i < OUTPUTS; i += 1000) {
      const part = paths.slice(i, i + 1000);
      // Written straight into the data directory's layout (<dataDir>/nar/<key>): Storage.put fsyncs each file, which only slows the set-up.
      await Promise.all(part.map((p) => writeFile(join(dir, 'data', 'nar', 'zstd', p.slice(11)), bytes)));
      // Odd outputs are young and refer to the even output before them.
      await recordOutputMetadata(
        c.context.datastore.db,
        part.map((storePath, j) => ({
          storePath,
          narHash: 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s',
          narSize: 64,
          references: (i + j) % 2 === 1 ? [paths[i + j - 1]!] : [],
          files: [
            { compression: 'zstd', fileSize: 64, fileHash: null, location: `zstd/${storePath.slice(11)}` },
          ],
        })),
        now - 30 * DAY,
      );
      await c.context.datastore.db
        .updateTable('output_metadata')
        .set({ created_at: now - DAY })
        .where(
          'store_path',
          'in',
          part.filter((_, j) => (i + j) % 2 === 1),
        )
        .execute();
    }
    // Make half of the young outputs old too: their pairs go with them.
    await c.context.datastore.db
      .updateTable('output_metadata')
      .set({ created_at: now - 30 * DAY })
      .where(
        'store_path',
        'in',
        paths.filter((_, k) => k % 4 === 1),
      )
      .execute();
    console.error(`set up ${OUTPUTS} outputs`);
    const target = {
      datastore: c.context.datastore,
      storage: c.context.storage.store,
      policy: resolveRetentionPolicy({ outputDays: 7 }),
      now: () => now,
    };
    let t = performance.now();
    const dry = await runRetention(target, { dryRun: true });
    const dryS = (performance.now() - t) / 1000;
    t = performance.now();
    const real = await runRetention(target);
    const runS = (performance.now() - t) / 1000;
    if (
      dry.removedOutputs.length !== real.removedOutputs.length ||
      real.removedOutputs.length !== OUTPUTS / 2
    )
      throw new Error(
        `expected ${OUTPUTS / 2} removals, got ${dry.removedOutputs.length}/${real.removedOutputs.length}`,
      );

    const rps = async (headers: Record<string, string>): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < REQUESTS; i++) {
        const res = await c.clientApp.request('/builds?limit=1', { headers });
        if (res.status !== 200) throw new Error(`GET /builds answered ${res.status}`);
        await res.arrayBuffer();
      }
      return REQUESTS / ((performance.now() - t0) / 1000);
    };
    await rps({}); // warm-up: JIT and the database's caches
    const authOffRps = await rps({});
    const { secret } = await createClientToken(c.context.datastore.db, { name: 'bench', scope: 'read' });
    clock.advance(61_000);
    const authOnRps = await rps({ Authorization: `Bearer ${secret}` });
    return { dialect, dryS, runS, removed: real.removedOutputs.length, authOffRps, authOnRps };
  } finally {
    await c.stop();
    drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = loadavg()[0]!.toFixed(1);
const rows = [await measure('sqlite'), await measure('postgres')];
const met = rows.every((r) => r.runS < TARGET_RUN_S && r.authOnRps > 0.8 * r.authOffRps);
console.log(`## Retention and client auth (coordinator-server)

${OUTPUTS.toLocaleString('en')} stored outputs (64-byte NAR files in a data directory, references between pairs), policy \`outputDays: 7\`, half of them expired; then ${REQUESTS.toLocaleString('en')} sequential \`GET /builds?limit=1\` through \`app.request()\` without auth and with a cached read token. Load average at start: ${load}.

| dialect | dry run (s) | run (s) | outputs removed | GET /builds req/s, auth off | req/s, bearer token |
|---|---|---|---|---|---|
${rows.map((r) => `| ${r.dialect} | ${r.dryS.toFixed(2)} | ${r.runS.toFixed(2)} | ${r.removed.toLocaleString('en')} | ${Math.round(r.authOffRps)} | ${Math.round(r.authOnRps)} |`).join('\n')}

Target: a run over ${OUTPUTS.toLocaleString('en')} outputs under ${TARGET_RUN_S} s, and token auth costing under 20% of throughput: ${met ? 'met' : 'NOT met'}.
`);
