import { describe, expect, it } from 'vitest';
import { uuidV7 } from './uuid-v7.js';

describe('uuidV7', () => {
  it('has version 7, the RFC variant, and the time in its first 48 bits', () => {
    const now = Date.UTC(2026, 10, 28, 2, 30, 0, 123);
    const id = uuidV7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(now);
  });

  it('is unique across many ids in one millisecond and sorts by time across milliseconds', () => {
    const ids = Array.from({ length: 5000 }, () => uuidV7(1_000));
    expect(new Set(ids).size).toBe(ids.length);
    const later = Array.from({ length: 100 }, (_, i) => uuidV7(2_000 + i * 7));
    expect([...later].sort()).toEqual(later);
    expect(later.every((id) => id > ids.reduce((a, b) => (a > b ? a : b)))).toBe(true);
  });
});
