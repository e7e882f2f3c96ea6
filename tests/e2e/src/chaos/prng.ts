// The chaos test's only source of randomness: a small seeded generator
// (mulberry32), so that a seed names one run's whole plan (graph, actions,
// pauses) and a failing run can be replayed from the seed it printed.
import { randomInt } from 'node:crypto';

/** Numbers drawn from one seed, always in the same order. */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number;
  /** One of `items` (not empty). */
  pick<T>(items: readonly T[]): T;
  /** `k` distinct items of `items` in the order drawn (all of them when k ≥ length). */
  sample<T>(items: readonly T[], k: number): T[];
}

/** A generator seeded with the 32-bit unsigned `seed`. */
export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    throw new RangeError(`a chaos seed is an integer in [0, 2^32), got ${seed}`);
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  function pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[int(0, items.length - 1)]!;
  }
  function sample<T>(items: readonly T[], k: number): T[] {
    const rest = [...items];
    const out: T[] = [];
    while (out.length < k && rest.length > 0) out.push(rest.splice(int(0, rest.length - 1), 1)[0]!);
    return out;
  }
  return { next, int, pick, sample };
}

/**
 * The seed of a run: `GBC_CHAOS_SEED` (a decimal integer in [0, 2^32)) when
 * set, else a fresh random one. Throws on a malformed value rather than
 * running another seed than the one asked for.
 */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.GBC_CHAOS_SEED;
  if (raw === undefined || raw === '') return randomInt(0, 0xffff_ffff);
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) > 0xffff_ffff)
    throw new RangeError(`GBC_CHAOS_SEED must be a decimal integer in [0, 2^32), got ${JSON.stringify(raw)}`);
  return Number(raw);
}
