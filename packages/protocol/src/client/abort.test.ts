import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkAbortSignals } from './abort.js';

describe('linkAbortSignals', () => {
  it('aborts with the reason of whichever source aborts first, and lets go of the others', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkAbortSignals([a.signal, undefined, b.signal], 60_000);
    expect(linked.signal.aborted).toBe(false);
    b.abort(new Error('build canceled'));
    expect(linked.signal.aborted).toBe(true);
    expect((linked.signal.reason as Error).message).toBe('build canceled');
    expect(linked.timedOut()).toBe(false);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
  });

  it('is aborted at once by a source that already was', () => {
    const a = new AbortController();
    a.abort('stopping');
    const linked = linkAbortSignals([a.signal], 60_000);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('stopping');
  });

  it('times out with a TimeoutError and says so', async () => {
    const a = new AbortController();
    const linked = linkAbortSignals([a.signal], 5);
    await new Promise((resolve) => linked.signal.addEventListener('abort', resolve));
    expect(linked.timedOut()).toBe(true);
    expect((linked.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no listener on a long-lived source once released', () => {
    const stop = new AbortController();
    for (let i = 0; i < 10_000; i++) linkAbortSignals([stop.signal], 60_000).release();
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    const last = linkAbortSignals([stop.signal]);
    last.release();
    stop.abort('late');
    expect(last.signal.aborted).toBe(false);
  });
});
