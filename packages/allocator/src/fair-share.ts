// Fair-share bookkeeping: allocations per value of one tag over a sliding time
// window, weighted by configured shares (Hydra's per-jobset scheduling shares
// are the model). The value with the lowest allocations/share goes next.
import { AllocatorError } from './errors.js';

/** Options of the `fair-share` strategy. */
export interface FairShareOptions {
  /** The build tag whose values share the farm, e.g. `project`. Default `project`. */
  readonly tag?: string;
  /** Shares per tag value; values not listed get `defaultShare`. Builds without the tag share as value ''. */
  readonly shares?: Readonly<Record<string, number>>;
  /** Share of unlisted values. Default 1. */
  readonly defaultShare?: number;
  /** Window (ms) over which allocations are counted. Default 1 hour. */
  readonly windowMs?: number;
}

/** Mutable usage state of one fair-share index. */
export interface FairShareState {
  readonly tag: string;
  readonly shares: ReadonlyMap<string, number>;
  readonly defaultShare: number;
  readonly windowMs: number;
  /** Allocation times and values, oldest first; `head` is the first still in the window. */
  readonly events: { readonly at: number; readonly value: string }[];
  head: number;
  /** Allocations in the window per value. */
  readonly used: Map<string, number>;
}

/** Validates options and returns empty usage state. */
export function createFairShareState(options: FairShareOptions = {}): FairShareState {
  const positive = (what: string, v: number) => {
    if (!Number.isFinite(v) || v <= 0)
      throw new AllocatorError(
        'invalid-option',
        `fair-share: ${what} must be a positive finite number; found ${v}`,
      );
    return v;
  };
  const shares = new Map<string, number>();
  for (const [k, v] of Object.entries(options.shares ?? {}))
    shares.set(k, positive(`the share of ${JSON.stringify(k)}`, v));
  return {
    tag: options.tag ?? 'project',
    shares,
    defaultShare: positive('defaultShare', options.defaultShare ?? 1),
    windowMs: positive('windowMs', options.windowMs ?? 3_600_000),
    events: [],
    head: 0,
    used: new Map(),
  };
}

/** Forgets allocations that left the window ending at `now` (counted: those with `at > now - windowMs`). */
export function expireUsage(state: FairShareState, now: number): void {
  const cutoff = now - state.windowMs;
  const { events, used } = state;
  const start = state.head;
  while (state.head < events.length && (events[state.head] as { at: number }).at <= cutoff) {
    const { value } = events[state.head] as { value: string };
    const n = (used.get(value) ?? 0) - 1;
    if (n === 0) used.delete(value);
    else used.set(value, n);
    state.head++;
  }
  if (state.head > start && state.head > 1024 && state.head * 2 > events.length) {
    events.splice(0, state.head);
    state.head = 0;
  }
}

/** Records one allocation to `value` at `now`. */
export function recordUsage(state: FairShareState, value: string, now: number): void {
  state.events.push({ at: now, value });
  state.used.set(value, (state.used.get(value) ?? 0) + 1);
}

/** Allocations in the window divided by the value's share: lower goes first. */
export function usageRatio(state: FairShareState, value: string): number {
  return (state.used.get(value) ?? 0) / (state.shares.get(value) ?? state.defaultShare);
}

/** A copy of the mutable parts, for {@link restoreUsage} (used by the allocation plan). */
export function saveUsage(state: FairShareState): {
  readonly length: number;
  readonly head: number;
  readonly used: Map<string, number>;
} {
  return { length: state.events.length, head: state.head, used: new Map(state.used) };
}

/** Puts back what {@link saveUsage} saved; only valid if nothing expired in between. */
export function restoreUsage(state: FairShareState, saved: ReturnType<typeof saveUsage>): void {
  state.events.length = saved.length;
  state.head = saved.head;
  state.used.clear();
  for (const [k, v] of saved.used) state.used.set(k, v);
}
