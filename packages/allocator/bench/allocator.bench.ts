// Benchmark: the in-memory part of fetch-builds. Builds each strategy's index
// from 1,000,000 queued builds over 4 systems with tags, then 1,000 simulated
// agents take builds in turn. Prints a Markdown section for BENCHMARKS.md.
import { builtinStrategy, type AgentInfo, type AllocationStrategy, type QueuedBuild } from '../src/index.js';

const BUILDS = 1_000_000;
const AGENTS = 1_000;
const ROUNDS = 100;
const PER_TAKE = 2;
const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'i686-linux', 'powerpc64le-linux'];

/** Deterministic PRNG (mulberry32) so every run measures the same queue. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeBuilds(): QueuedBuild[] {
  const rand = prng(42);
  const builds = new Array<QueuedBuild>(BUILDS);
  for (let i = 0; i < BUILDS; i++) {
    const r = rand();
    const tags: Record<string, string> = { project: `project-${Math.floor(rand() * 20)}` };
    if (r < 0.1) tags.machine = 'big';
    const waits = i > 100 && r > 0.9; // 10% wait for an earlier build's output
    const producer = Math.floor(rand() * i);
    builds[i] = {
      id: `b${i}`,
      derivation: `/gnu/store/${i.toString(36).padStart(32, '0')}-pkg-${i}.drv`,
      system: SYSTEMS[i % 4] as string,
      priority: Math.floor(rand() * 10),
      createdAt: 1_700_000_000_000 + i,
      ...(r > 0.89 && r <= 0.9 ? { deferUntil: 1_700_000_000_000 + 2 * BUILDS } : {}),
      tags,
      ...(waits ? { pendingInputs: [{ path: `/gnu/store/out-${producer}`, buildId: `b${producer}` }] } : {}),
    };
  }
  return builds;
}

function makeAgents(): AgentInfo[] {
  return Array.from({ length: AGENTS }, (_, i): AgentInfo => ({
    id: `agent-${String(i).padStart(4, '0')}`,
    systems:
      i % 3 === 0 ? [SYSTEMS[i % 4] as string, SYSTEMS[(i + 1) % 4] as string] : [SYSTEMS[i % 4] as string],
    tags: i % 5 === 0 ? { machine: 'big' } : i % 5 === 1 ? { machine: 'small' } : {},
    active: true,
  }));
}

const heapMb = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

function measure(strategy: AllocationStrategy, builds: QueuedBuild[], agents: AgentInfo[]) {
  const before = heapMb();
  let t = performance.now();
  const cpu = process.cpuUsage();
  const index = strategy.createIndex({ builds, agents });
  const buildS = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const buildCpuS = (used.user + used.system) / 1e6;
  const indexMb = heapMb() - before;
  const latencies: number[] = [];
  let allocated = 0;
  const now = 1_700_000_000_000 + BUILDS;
  t = performance.now();
  for (let round = 0; round < ROUNDS; round++)
    for (const agent of agents) {
      const start = process.hrtime.bigint();
      allocated += strategy.take(index, agent.id, PER_TAKE, now + round).length;
      latencies.push(Number(process.hrtime.bigint() - start) / 1000);
    }
  const takeS = (performance.now() - t) / 1000;
  t = performance.now();
  strategy.plan(index, now + ROUNDS, 1);
  const planMs = performance.now() - t;
  latencies.sort((a, b) => a - b);
  return {
    buildS,
    buildCpuS,
    indexMb,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    p999: pct(latencies, 99.9),
    max: latencies[latencies.length - 1] ?? 0,
    perS: allocated / takeS,
    allocated,
    planMs,
  };
}

const builds = makeBuilds();
const agents = makeAgents();
const rows: string[] = [];
let met = true;
for (const name of ['basic', 'derivation-ordered', 'fair-share']) {
  const r = measure(
    builtinStrategy(name, { fairShare: { tag: 'project', windowMs: 3_600_000 } }),
    builds,
    agents,
  );
  met &&= r.p99 < 1000 && r.perS >= 5000;
  rows.push(
    `| ${name} | ${r.buildS.toFixed(2)} (${r.buildCpuS.toFixed(2)} CPU) | ${r.indexMb.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.p999.toFixed(0)} | ${r.max.toFixed(0)} | ${Math.round(r.perS).toLocaleString('en-US')} | ${r.allocated.toLocaleString('en-US')} | ${r.planMs.toFixed(1)} |`,
  );
}

process.stdout.write(`## Allocator (in memory): 1,000,000 queued builds, 1,000 agents

Queue: ${BUILDS.toLocaleString('en-US')} builds over 4 systems, tags \`project\` (20 values) and \`machine=big\` on 10%;
10% wait for another build's output, 1% deferred. Agents: ${AGENTS.toLocaleString('en-US')}, 1–2 systems each, 40% with a
\`machine\` tag. Each agent in turn takes ${PER_TAKE} builds, ${ROUNDS} rounds. Snapshot heap (the input builds): ${heapMb().toFixed(0)} MB.

| strategy | index build (s) | index heap (MB) | take p50 (µs) | take p99 (µs) | take p99.9 (µs) | take max (µs) | allocations/s | allocated | plan, 1 per agent (ms) |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Target (in-memory part of fetch-builds; the HTTP path must reach p99 < 10 ms and ≥ 5,000 allocations/s):
take p99 well under 1 ms and ≥ 5,000 allocations/s — **${met ? 'met' : 'not met'}**.
`);
