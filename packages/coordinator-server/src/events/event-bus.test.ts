import { describe, expect, it } from 'vitest';
import type { GbcEvent } from '@gbc/protocol';
import { createEventBus } from './event-bus.js';

const ids = (events: readonly GbcEvent[]) => events.map((e) => e.id);

describe('event bus', () => {
  it('numbers events, fills in time and data, and delivers new ones to subscribers', () => {
    const bus = createEventBus({ now: () => Date.UTC(2026, 10, 28, 12) });
    const seen: GbcEvent[] = [];
    bus.subscribe(null, (e) => seen.push(e));
    const first = bus.publish({ type: 'build-allocated', build: 'b1', agent: 'a1' });
    bus.publish({ type: 'agent-status', agent: 'a1', time: '2026-01-01T00:00:00.000Z', data: { load1: 1 } });
    expect(first).toEqual({
      type: 'build-allocated',
      build: 'b1',
      agent: 'a1',
      id: '1',
      time: '2026-11-28T12:00:00.000Z',
      data: {},
    });
    expect(seen[1]).toMatchObject({ id: '2', time: '2026-01-01T00:00:00.000Z', data: { load1: 1 } });
    expect(bus.lastId()).toBe('2');
  });

  it('replays what a reconnecting subscriber missed, as long as the ring still holds it', () => {
    const bus = createEventBus({ capacity: 3 });
    for (let i = 1; i <= 5; i++) bus.publish({ type: 'build-allocated', build: `b${i}` });
    const replay = (from: string | null) => {
      const seen: GbcEvent[] = [];
      bus.subscribe(from, (e) => seen.push(e))();
      return seen;
    };
    expect(ids(replay('3'))).toEqual(['4', '5']);
    // Older than the ring: what it still holds, oldest first, with the events' own fields.
    expect(replay('0').map((e) => [e.id, e.build])).toEqual([
      ['3', 'b3'],
      ['4', 'b4'],
      ['5', 'b5'],
    ]);
    expect(ids(replay('5'))).toEqual([]);
    expect(ids(replay('not-a-number'))).toEqual([]);
    expect(ids(replay(null))).toEqual([]);
  });

  it('holds the latest 10,000 events by default', () => {
    const bus = createEventBus();
    for (let i = 1; i <= 10_001; i++) bus.publish({ type: 'build-allocated', build: `b${i}` });
    const seen: GbcEvent[] = [];
    bus.subscribe('0', (e) => seen.push(e))();
    expect(seen.length).toBe(10_000);
    expect([seen[0]!.id, seen[0]!.build, seen.at(-1)!.id]).toEqual(['2', 'b2', '10001']);
  });

  it('keeps delivering when a listener throws, and stops delivering once unsubscribed', () => {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.subscribe(null, () => {
      throw new Error('listener failed');
    });
    const stop = bus.subscribe(null, (e) => seen.push(e.id));
    bus.publish({ type: 'build-allocated', build: 'b1' });
    stop();
    bus.publish({ type: 'build-allocated', build: 'b2' });
    expect(seen).toEqual(['1']);
  });
});
