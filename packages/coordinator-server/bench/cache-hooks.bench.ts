// Benchmark of the binary cache and the hook runner on SQLite: signed narinfo
// requests over real HTTP (loopback, 32 concurrent clients, 20,000 outputs
// held; the cache's fast path in front of its Hono app, as a coordinator's
// listeners serve it) and hook events through the runner (no-op hook, 4
// workers). The clients run in this same thread: a floor against regressions;
// cache-nginx.bench.ts measures the cache against nginx with an outside client.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { getRequestListener } from '@hono/node-server';
import { enqueueEvents, countPendingEvents } from '@gbc/datastore';
import { generateSecretKey } from '@gbc/store';
import { cacheInfoText, createCacheApp, createCacheIndex } from '../src/cache/cache-app.js';
import { createCacheListener } from '../src/cache/cache-listener.js';
import { resolveCacheOptions } from '../src/cache/cache-options.js';
import { createHookRunner } from '../src/hooks/hook-runner.js';
import { makeTestDir, openTestCoordinator, removeTestDir } from '../src/hooks/testing/test-coordinator.js';
import { systemClock } from '../src/clock.js';
import { recordBenchOutputs } from './bench-outputs.js';

const OUTPUTS = 20_000;
const REQUESTS = 10_000;
const CONCURRENCY = 32;
const EVENTS = 5_000;
const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
const hash = (i: number) =>
  Array.from({ length: 32 }, (_, k) => ALPHABET[(i * 7 + k * 13 + Math.floor(i / 32 ** (k % 4))) % 32]).join(
    '',
  );

const dir = await makeTestDir('gbc-bench-cache-');
const tc = await openTestCoordinator(dir, { clock: systemClock });
const db = tc.ctx.datastore.db;
const hashes: string[] = [];
const seen = new Set<string>();
for (let i = 0; hashes.length < OUTPUTS; i++) {
  const h = hash(i);
  if (!seen.has(h)) {
    seen.add(h);
    hashes.push(h);
  }
}
await recordBenchOutputs(db, hashes);
const options = await resolveCacheOptions({ signingKey: generateSecretKey('bench-1') });
const index = createCacheIndex(tc.ctx, options);
const front = createCacheListener(tc.ctx, options, index, cacheInfoText(options));
const hono = getRequestListener(createCacheApp(tc.ctx, options, index).fetch);
const server = createServer((req, res) => front(req, res) || void hono(req, res));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const latencies: number[] = [];
let next = 0;
let failed = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      const s = performance.now();
      const res = await fetch(`${base}/${hashes[(i * 7919) % hashes.length]}.narinfo`);
      await res.text();
      if (res.status !== 200) failed += 1;
      latencies.push(performance.now() - s);
    }
  }),
);
const cacheSeconds = (performance.now() - t0) / 1000;
await new Promise<void>((r) => server.close(() => r()));
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
const narinfoPerS = REQUESTS / cacheSeconds;

await enqueueEvents(
  db,
  Array.from({ length: EVENTS }, (_, i) => ({ eventType: 'build-success', payload: { build: `b${i}` } })),
  Date.now(),
);
const runner = createHookRunner(tc.ctx, {
  hooks: new Map([['build-success', [() => undefined]]]),
  parallelism: 4,
  pollIntervalMs: 10,
});
const h0 = performance.now();
runner.start();
while (((await countPendingEvents(db)).get('build-success') ?? 0) > 0)
  await new Promise((r) => setTimeout(r, 20));
const hookSeconds = (performance.now() - h0) / 1000;
await runner.stop();
const eventsPerS = EVENTS / hookSeconds;
await tc.close();
await removeTestDir(dir);

// Floors set after the first run on the 2-core project machine (client and server share one thread here), to catch regressions.
const NARINFO_TARGET = 400;
const HOOK_TARGET = 300;
console.log(`## Binary cache and hooks (SQLite)

\`node --conditions=source --import tsx --expose-gc packages/coordinator-server/bench/cache-hooks.bench.ts\`, ${new Date().toISOString().slice(0, 10)}.
Signed Nix narinfos over loopback HTTP (the cache's fast path; the clients are fetch() in the same thread), ${CONCURRENCY} concurrent clients, ${OUTPUTS.toLocaleString('en')} outputs held; hook events through the runner (no-op hook, 4 workers, one claim + one completion per event).
Load average when it ended: ${loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ')} (figures from a machine shared with other work are only comparable at similar load).

| measure | value |
|---|---|
| narinfo requests | ${REQUESTS.toLocaleString('en')} (${failed} not 200) |
| narinfo throughput | ${narinfoPerS.toFixed(0)} /s |
| narinfo latency p50 / p99 | ${pct(0.5).toFixed(1)} ms / ${pct(0.99).toFixed(1)} ms |
| hook events | ${EVENTS.toLocaleString('en')} |
| hook throughput | ${eventsPerS.toFixed(0)} events/s |

Targets: ≥ ${NARINFO_TARGET} signed narinfos/s — ${narinfoPerS >= NARINFO_TARGET && failed === 0 ? 'met' : 'NOT met'}; ≥ ${HOOK_TARGET} hook events/s — ${eventsPerS >= HOOK_TARGET ? 'met' : 'NOT met'}.`);
