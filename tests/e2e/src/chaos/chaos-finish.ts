// After the chaos: waits for every build to end, and turns a stall into an
// answer instead of a hang. A stall is a stretch of `stallMs` in which no
// build changed state or holder while none was deferred on purpose (a build
// waiting out its retry delay is waiting, not stuck); `capMs` bounds the whole
// wait whatever happens. Then waits for the hook to have seen every success.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Build, BuildDetail } from '@gbc/protocol';
import { restartDeadAgents } from './chaos-actions.js';
import type { ChaosFarm } from './chaos-farm.js';

/** How the wait ended. */
export type FinishOutcome =
  | { readonly finished: true; readonly builds: readonly BuildDetail[] }
  | { readonly finished: false; readonly why: string; readonly builds: readonly BuildDetail[] };

const FINAL = new Set(['succeeded', 'failed', 'canceled']);

/** Every build's detail, read one after the other (the coordinator shares two cores with the agents). */
export async function buildDetails(farm: ChaosFarm): Promise<BuildDetail[]> {
  const out: BuildDetail[] = [];
  for (const uuid of farm.buildNodes.keys()) out.push(await farm.client.getBuild(uuid));
  return out;
}

/** Waits until every build has ended, or a stall of `stallMs`, or `capMs` in all. */
export async function waitForFarm(farm: ChaosFarm, stallMs: number, capMs: number): Promise<FinishOutcome> {
  const start = Date.now();
  let lastChange = Date.now();
  let last = '';
  for (;;) {
    restartDeadAgents(farm);
    let builds: Build[] = [];
    try {
      builds = (await farm.client.listBuilds({ limit: 1000 }, { signal: AbortSignal.timeout(10_000) }))
        .builds;
    } catch {
      // A loaded coordinator may answer late: the stall clock keeps running.
    }
    const now = Date.now();
    if (builds.length === farm.buildNodes.size && builds.every((b) => FINAL.has(b.state)))
      return { finished: true, builds: await buildDetails(farm) };
    const signature = builds
      .map((b) => `${b.uuid}:${b.state}:${b.agent ?? ''}`)
      .sort()
      .join(' ');
    const deferred = builds.some(
      (b) => b.state === 'queued' && b.deferUntil !== null && Date.parse(b.deferUntil) > now,
    );
    if (signature !== last || deferred) {
      last = signature;
      lastChange = now;
    }
    const stalled = now - lastChange > stallMs;
    if (stalled || now - start > capMs) {
      const open = builds.filter((b) => !FINAL.has(b.state)).length;
      const why = stalled
        ? `the farm stalled: no build changed state for ${Math.round(stallMs / 1000)} s (none deferred), ${open} of ${farm.buildNodes.size} builds never ended`
        : `the farm did not finish within ${Math.round(capMs / 1000)} s after the chaos, ${open} of ${farm.buildNodes.size} builds never ended`;
      return { finished: false, why, builds: await buildDetails(farm) };
    }
    await sleep(1000);
  }
}

/** The build-success events the command hook recorded: build uuid → how many times; plus lines that do not parse. */
export function readHookRecord(file: string): { runs: Map<string, number>; unreadable: number } {
  const runs = new Map<string, number>();
  let unreadable = 0;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const event = JSON.parse(line) as { type?: unknown; build?: unknown };
      if (event.type === 'build-success' && typeof event.build === 'string')
        runs.set(event.build, (runs.get(event.build) ?? 0) + 1);
      else unreadable += 1;
    } catch {
      unreadable += 1;
    }
  }
  return { runs, unreadable };
}

/** Waits (at most `timeoutMs`) until the hook recorded every build of `uuids` and the outbox holds no build-success event. */
export async function waitForHooks(
  farm: ChaosFarm,
  uuids: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { runs } = readHookRecord(farm.hookRecord);
    const status = await farm.client.hookStatus().catch(() => undefined);
    const pending = status?.queue.find((q) => q.eventType === 'build-success')?.pending ?? 0;
    if (status !== undefined && pending === 0 && uuids.every((u) => runs.has(u))) return;
    await sleep(500);
  }
}
