// Tests of the chunk pool: only released buffers come back, once each.
import { describe, expect, it } from 'vitest';
import { ChunkPool } from './chunk-pool.js';

describe('ChunkPool', () => {
  it('hands a released buffer out again, and never one still held', () => {
    const pool = new ChunkPool();
    const a = pool.acquire(1024);
    const b = pool.acquire(1024);
    expect(a.buffer).not.toBe(b.buffer);
    pool.release(a.subarray(10, 20)); // any view of the buffer releases it
    const c = pool.acquire(1024);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(1024);
    // b was never released: a new buffer, not b.
    const d = pool.acquire(1024);
    expect(d.buffer).not.toBe(b.buffer);
    expect(d.buffer).not.toBe(c.buffer);
  });

  it('ignores a second release and chunks it did not hand out', () => {
    const pool = new ChunkPool();
    const other = new ChunkPool();
    const a = pool.acquire(64);
    const b = pool.acquire(64);
    other.release(b); // another pool's buffer: not taken
    pool.release(a);
    pool.release(a);
    pool.release(Buffer.from('not pooled'));
    const first = pool.acquire(64);
    const second = pool.acquire(64);
    expect(first.buffer).toBe(a.buffer);
    expect(second.buffer).not.toBe(a.buffer);
    expect(second.buffer).not.toBe(b.buffer);
    expect(other.acquire(64).buffer).not.toBe(b.buffer);
  });

  it('keeps buffers of each size apart', () => {
    const pool = new ChunkPool();
    const small = pool.acquire(64);
    pool.release(small);
    const large = pool.acquire(128);
    expect(large.buffer).not.toBe(small.buffer);
    expect(pool.acquire(64).buffer).toBe(small.buffer);
  });

  it('takes back everything handed out with releaseAll in trackAll mode', () => {
    const pool = new ChunkPool(true);
    const held = [pool.acquire(32), pool.acquire(32)];
    pool.releaseAll();
    const again = new Set([pool.acquire(32).buffer, pool.acquire(32).buffer]);
    expect(again).toEqual(new Set(held.map((b) => b.buffer)));
  });
});
