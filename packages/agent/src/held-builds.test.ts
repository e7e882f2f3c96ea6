// Held builds: held from the start of their run until it ends, however it
// ends; aborted one by one or all together, each with the reason.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AllocatedBuild } from '@gbc/protocol';
import { HeldBuilds } from './held-builds.js';

/** An allocation as fetch-builds returns one. */
function allocated(): AllocatedBuild {
  return {
    uuid: randomUUID(),
    attempt: randomUUID(),
    derivation: '/nix/store/00000000000000000000000000000000-held.drv',
    system: 'x86_64-linux',
    priority: 0,
    tags: [],
    timeoutSeconds: null,
    maxSilentTimeSeconds: null,
    leaseExpiresAt: new Date(0).toISOString(),
  };
}

/** A run that waits for its abort and records the reason. */
function untilAborted(reasons: Map<string, unknown>) {
  return (build: AllocatedBuild, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) =>
      signal.addEventListener(
        'abort',
        () => {
          reasons.set(build.uuid, signal.reason);
          resolve();
        },
        { once: true },
      ),
    );
}

describe('held builds', () => {
  it('holds a build while its run lasts, and calls onEnd once it is no longer held', async () => {
    const events: string[] = [];
    const held = new HeldBuilds(
      () => events.push(`end, ${held.size} held`),
      () => undefined,
    );
    const build = allocated();
    let finish = (): void => undefined;
    expect(
      held.start(build, async () => {
        events.push('run');
        await new Promise<void>((r) => (finish = r));
      }),
    ).toBe(true);
    expect(held.ids()).toEqual([build.uuid]);
    expect(held.snapshot().get(build.uuid)).toBe(build);
    finish();
    await held.settled();
    expect(events).toEqual(['run', 'end, 0 held']);
    expect(held.size).toBe(0);
  });

  it('runs nothing for a build it holds already', async () => {
    const reasons = new Map<string, unknown>();
    const held = new HeldBuilds(
      () => undefined,
      () => undefined,
    );
    const build = allocated();
    let runs = 0;
    const work = untilAborted(reasons);
    const counted = (b: AllocatedBuild, s: AbortSignal) => {
      runs++;
      return work(b, s);
    };
    expect(held.start(build, counted)).toBe(true);
    expect(held.start(build, counted)).toBe(false);
    expect(runs).toBe(1);
    held.abortAll('stopping');
    await held.settled();
  });

  it('aborts one build with its reason, then all the others', async () => {
    const reasons = new Map<string, unknown>();
    const held = new HeldBuilds(
      () => undefined,
      () => undefined,
    );
    const [a, b, c] = [allocated(), allocated(), allocated()];
    for (const x of [a, b, c]) held.start(x, untilAborted(reasons));
    held.abort(a.uuid, 'canceled');
    held.abort(randomUUID(), 'lease-lost'); // not held: nothing happens
    expect([...reasons]).toEqual([[a.uuid, 'canceled']]);
    held.abort(b.uuid, 'lease-lost');
    held.abortAll('stopping');
    await held.settled();
    expect(Object.fromEntries(reasons)).toEqual({
      [a.uuid]: 'canceled',
      [b.uuid]: 'lease-lost',
      [c.uuid]: 'stopping',
    });
    expect(held.size).toBe(0);
  });

  it('logs a failed run and lets the build go', async () => {
    const logged: [string, Record<string, unknown> | undefined][] = [];
    let ended = 0;
    const held = new HeldBuilds(
      () => ended++,
      (m, f) => logged.push([m, f]),
    );
    const build = allocated();
    held.start(build, () => Promise.reject(new Error('the daemon went away')));
    await held.settled();
    expect(logged).toEqual([
      ['build run failed', { build: build.uuid, error: 'Error: the daemon went away' }],
    ]);
    expect(ended).toBe(1);
    expect(held.size).toBe(0);
  });

  it('gives a snapshot that does not change with the builds it holds', async () => {
    const reasons = new Map<string, unknown>();
    const held = new HeldBuilds(
      () => undefined,
      () => undefined,
    );
    const build = allocated();
    held.start(build, untilAborted(reasons));
    const before = held.snapshot();
    held.abortAll('stopping');
    await held.settled();
    expect([...before.keys()]).toEqual([build.uuid]);
    expect(held.snapshot().size).toBe(0);
  });
});
