// The cluster channel's payloads: what a process sends is packed under
// PostgreSQL's limit and parsed back as sent; anything malformed or hostile
// is dropped item by item, never thrown.
import { describe, expect, it } from 'vitest';
import { MAX_NOTIFY_PAYLOAD_BYTES } from '@gbc/datastore';
import { IDS_PER_CALL, chunked, parseClusterPayload } from './cluster-channel.js';

const payload = (items: unknown[], from: unknown = 'host/1/abc') => JSON.stringify({ from, items });

describe('cluster channel payloads', () => {
  it('parses every well-formed kind of item', () => {
    const items = [
      { t: 'event', event: { type: 'build-submitted', build: 'b1', time: '2026-12-07T00:00:00.000Z' } },
      { t: 'call', call: { op: 'refresh', ids: ['b1', 'b2'] } },
      { t: 'call', call: { op: 'cancel', ids: ['b3'] } },
      { t: 'call', call: { op: 'available', paths: ['/gnu/store/x'] } },
      { t: 'call', call: { op: 'failed', derivation: '/gnu/store/y.drv' } },
      { t: 'call', call: { op: 'agent', id: 'a1' } },
      { t: 'removed', paths: ['/gnu/store/z-out'] },
      { t: 'leader', leader: { process: 'host/2/def', agentUrl: 'http://127.0.0.1:1' } },
      { t: 'who' },
    ];
    expect(parseClusterPayload(payload(items))).toEqual({ from: 'host/1/abc', items });
  });

  it('drops malformed and hostile items, keeps the rest', () => {
    const good = { t: 'call', call: { op: 'refresh', ids: ['b1'] } };
    const bad = [
      null,
      42,
      ['t', 'who'],
      { t: 'nope' },
      { t: 'event', event: 'text' },
      { t: 'event', event: { build: 'no type' } },
      { t: 'call', call: { op: 'refresh', ids: 'b1' } },
      { t: 'call', call: { op: 'refresh', ids: [1, 2] } },
      {
        t: 'call',
        call: { op: 'refresh', ids: Array.from({ length: IDS_PER_CALL + 1 }, (_, i) => `b${i}`) },
      },
      { t: 'call', call: { op: 'drop-table', ids: [] } },
      { t: 'call', call: { op: 'failed', derivation: ['x'] } },
      { t: 'removed', paths: '/gnu/store/z-out' },
      { t: 'removed', paths: Array.from({ length: IDS_PER_CALL + 1 }, (_, i) => `/gnu/store/p${i}`) },
      { t: 'leader', leader: { process: 'p', agentUrl: 7 } },
      { t: 'leader' },
    ];
    expect(parseClusterPayload(payload([...bad, good]))?.items).toEqual([good]);
  });

  it('refuses what is not a payload at all', () => {
    for (const text of [
      '',
      'not json',
      '[]',
      'null',
      '{"items":[]}',
      payload([], 5),
      '{"from":"x","items":{}}',
    ])
      expect(parseClusterPayload(text), text).toBeUndefined();
  });

  it('splits long lists into calls that fit a notification', () => {
    const ids = Array.from(
      { length: 250 },
      (_, i) => `0190c5f0-0000-7000-8000-${String(i).padStart(12, '0')}`,
    );
    const parts = chunked(ids);
    expect(parts.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(parts.flat()).toEqual(ids);
    for (const part of parts)
      expect(Buffer.byteLength(payload([{ t: 'call', call: { op: 'refresh', ids: part } }]))).toBeLessThan(
        MAX_NOTIFY_PAYLOAD_BYTES,
      );
  });

  it('splits store paths of the longest names into items that still fit a notification', () => {
    // 255 bytes: the longest store path (a 211-character name).
    const paths = Array.from(
      { length: 250 },
      (_, i) => `/gnu/store/${'0'.repeat(32)}-${String(i).padStart(3, '0')}${'x'.repeat(208)}`,
    );
    expect(paths[0]).toHaveLength(255);
    const parts = chunked(paths);
    expect(parts.flat()).toEqual(paths);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) {
      const call = payload([{ t: 'call', call: { op: 'available', paths: part } }]);
      expect(Buffer.byteLength(call)).toBeLessThan(MAX_NOTIFY_PAYLOAD_BYTES);
      expect(Buffer.byteLength(payload([{ t: 'removed', paths: part }]))).toBeLessThan(
        MAX_NOTIFY_PAYLOAD_BYTES,
      );
      expect(parseClusterPayload(call)?.items).toHaveLength(1);
    }
  });
});
