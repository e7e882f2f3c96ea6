// The chaos test, long version (`pnpm chaos`): N seeds, each on SQLite then
// on PostgreSQL (a fresh database on GBC_TEST_POSTGRES_URI's server), with
// more agents (3), a bigger graph (96 derivations), more actions (40) and
// pauses past the lease (20 s). Prints every run's figures and a summary;
// exits 1 when any run broke an invariant.
//
//   pnpm chaos [--seeds N] [--seed FIRST] [--databases sqlite,postgres] [--agents 3]
//              [--actions 40] [--layers 12] [--width 8] [--lease 20] [--short] [--keep] [--json FILE]
//
// --seed FIRST runs FIRST, FIRST+1, …; without it every seed is random (and printed).
// --short runs the suite's shape instead (2 agents, 30 derivations, 14 actions, lease 45 s).
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatFigures, type ChaosFigures } from './chaos-figures.js';
import { runChaos, type ChaosRunOptions } from './chaos-run.js';
import { chaosSeed } from './prng.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    seed: { type: 'string' },
    databases: { type: 'string', default: 'sqlite,postgres' },
    agents: { type: 'string', default: '3' },
    actions: { type: 'string', default: '40' },
    layers: { type: 'string', default: '12' },
    width: { type: 'string', default: '8' },
    lease: { type: 'string', default: '20' },
    short: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

const databases = values.databases.split(',').map((d) => d.trim());
for (const d of databases)
  if (d !== 'sqlite' && d !== 'postgres')
    throw new RangeError(`--databases takes sqlite and/or postgres, got ${JSON.stringify(d)}`);
const count = positive('seeds', values.seeds);
const first = values.seed === undefined ? undefined : chaosSeed({ GBC_CHAOS_SEED: values.seed });
const seeds = Array.from({ length: count }, (_, i) =>
  first === undefined ? chaosSeed({}) : (first + i) % 0x1_0000_0000,
);
const shape: Omit<ChaosRunOptions, 'seed' | 'database' | 'log'> = values.short
  ? {
      agents: 2,
      actions: 14,
      layers: 6,
      width: 5,
      leaseSeconds: 45,
      pausesPastLease: false,
      keepDir: values.keep,
    }
  : {
      agents: positive('agents', values.agents),
      actions: positive('actions', values.actions),
      layers: positive('layers', values.layers),
      width: positive('width', values.width),
      leaseSeconds: positive('lease', values.lease),
      pausesPastLease: true,
      keepDir: values.keep,
    };

const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
log(
  `chaos, long version: seeds ${seeds.join(' ')} on ${databases.join(' then ')}; shape ${JSON.stringify(shape)}`,
);
const results: Array<{ figures: ChaosFigures; violations: readonly string[] }> = [];
for (const database of databases as Array<'sqlite' | 'postgres'>) {
  for (const seed of seeds) {
    const report = await runChaos({ ...shape, seed, database, log });
    console.log(formatFigures(report.figures));
    for (const v of report.violations) console.log(`  VIOLATION: ${v}`);
    results.push(report);
    if (values.json !== undefined) appendFileSync(values.json, `${JSON.stringify(report)}\n`);
  }
}

console.log(
  '\nseed        database  outcome  actions (coord/agent kill/pause)  builds  attempts  released  expired  dup  last disruption → end',
);
for (const { figures: f } of results) {
  const actions = `${f.actions['kill-coordinator']}/${f.actions['kill-agent']}/${f.actions['pause-agent']}`;
  const end = f.lastDisruptionToLastEndSeconds === null ? 'n/a' : `${f.lastDisruptionToLastEndSeconds} s`;
  console.log(
    `${String(f.seed).padEnd(11)} ${f.database.padEnd(9)} ${f.outcome.padEnd(8)} ${actions.padEnd(33)} ${`${f.succeeded}/${f.builds}`.padEnd(7)} ${String(f.attempts).padEnd(9)} ${String(f.released).padEnd(9)} ${String(f.leaseExpired).padEnd(8)} ${String(f.duplicateSuccesses).padEnd(4)} ${end}`,
  );
}
const failed = results.filter((r) => r.violations.length > 0).length;
console.log(`\n${results.length - failed} of ${results.length} runs passed`);
process.exitCode = failed === 0 ? 0 : 1;
