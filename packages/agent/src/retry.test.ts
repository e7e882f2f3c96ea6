// Backoff bounds and the retry loop, driven by a manual clock (no sleeping).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError } from '@gbc/protocol';
import { isAgentError } from './errors.js';
import { backoffDelay, isTransient, withRetry } from './retry.js';
import type { AgentTimers } from './timers.js';

/** Timers whose sleep only records the delay. */
function recordingTimers(): AgentTimers & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => 0, random: () => 0.5, sleep: (ms) => Promise.resolve(void slept.push(ms)) };
}

const down = (): ProtocolError => new ProtocolError('network-error', 'connection refused', { status: 0 });

describe('backoffDelay', () => {
  it('stays within [ceiling/2, ceiling] and never above maxMs', () => {
    fc.assert(
      fc.property(
        fc.nat(100),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 100_000 }),
        (n, r, baseMs, maxMs) => {
          const d = backoffDelay(n, { baseMs, maxMs }, () => r);
          const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(n, 30));
          return d >= Math.floor(ceiling / 2) && d <= ceiling;
        },
      ),
    );
  });
});

describe('withRetry', () => {
  it('retries transient failures with growing delays until success', async () => {
    const timers = recordingTimers();
    let calls = 0;
    const value = await withRetry(
      () => (++calls < 4 ? Promise.reject(down()) : Promise.resolve('ok')),
      timers,
      { baseMs: 100, maxMs: 1000 },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(4);
    expect(timers.slept).toEqual([75, 150, 300]);
  });

  it('retries an upload the coordinator is still closing (503 upload-in-progress), not a 409', () => {
    expect(isTransient(new ProtocolError('upload-in-progress', 'still closing'))).toBe(true);
    expect(isTransient(new ProtocolError('conflict', 'still closing', { status: 409 }))).toBe(false);
  });

  it('does not retry a refusal', async () => {
    const timers = recordingTimers();
    let calls = 0;
    const refusal = new ProtocolError('conflict', 'not started', { status: 409 });
    await expect(
      withRetry(() => {
        calls++;
        return Promise.reject(refusal);
      }, timers),
    ).rejects.toBe(refusal);
    expect(calls).toBe(1);
    expect(timers.slept).toEqual([]);
  });

  it('gives up after the attempts with retries-exhausted', async () => {
    const timers = recordingTimers();
    const error = await withRetry(() => Promise.reject(down()), timers, { attempts: 3 }).catch(
      (e: unknown) => e,
    );
    expect(isAgentError(error, 'retries-exhausted')).toBe(true);
    expect(timers.slept).toHaveLength(2);
  });

  it('stops at once when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort('stopping');
    await expect(withRetry(() => Promise.resolve(1), recordingTimers(), {}, controller.signal)).rejects.toBe(
      'stopping',
    );
  });

  it('classes errors: no answer, timeouts, 5xx, 408 and 429 are transient; other 4xx are not', () => {
    expect(isTransient(down())).toBe(true);
    expect(isTransient(new ProtocolError('unavailable', 'starting', { status: 503 }))).toBe(true);
    expect(isTransient(new ProtocolError('too-many-requests', 'slow down', { status: 429 }))).toBe(true);
    expect(isTransient(new ProtocolError('request-timeout', 'the body idled', { status: 408 }))).toBe(true);
    expect(isTransient(new ProtocolError('not-found', 'gone', { status: 404 }))).toBe(false);
    expect(isTransient(new RangeError('bug'))).toBe(false);
  });
});
