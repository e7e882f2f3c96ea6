// Which stored outputs and logs a retention run keeps and removes: a pure
// function of what the datastore holds, the policy and the time. The kept set
// is closed under references (a kept output never loses a reference), and the
// inputs of unfinished builds are always kept.
import type { ResolvedRetentionPolicy } from './policy.js';

const DAY_MS = 86_400_000;

/** A stored output as retention sees it. */
export interface RetainedOutput {
  readonly storePath: string;
  /** Full store paths it refers to (itself included or not). */
  readonly references: readonly string[];
  /** Total size of its stored files, bytes. */
  readonly bytes: number;
  /** When its latest successful build ended (or it was uploaded), ms since the epoch. */
  readonly keptSince: number;
}

/** A stored log of an ended attempt. */
export interface RetainedLog {
  readonly attemptId: number;
  readonly key: string;
  readonly endedAt: number;
}

/** What `planRetention` needs. */
export interface RetentionInput {
  readonly outputs: readonly RetainedOutput[];
  readonly logs: readonly RetainedLog[];
  /** Store paths that queued, allocated or started builds need as inputs. */
  readonly needed: ReadonlySet<string>;
  readonly now: number;
  readonly policy: ResolvedRetentionPolicy;
}

/** The verdict: what goes, and what stays. */
export interface RetentionPlan {
  /** Outputs to remove, oldest first. */
  readonly removeOutputs: readonly RetainedOutput[];
  readonly removeLogs: readonly RetainedLog[];
  /** Store paths kept (closed under references). */
  readonly kept: ReadonlySet<string>;
  readonly keptBytes: number;
  readonly freedBytes: number;
  /** True when what must be kept (inputs of unfinished builds and their references) alone exceeds the budget. */
  readonly overBudget: boolean;
}

/** Computes a retention plan; see the file header. */
export function planRetention(input: RetentionInput): RetentionPlan {
  const { policy, now } = input;
  const byPath = new Map(input.outputs.map((o) => [o.storePath, o]));
  const kept = new Set<string>();
  let keptBytes = 0;

  /** The items of `root`'s closure not kept yet. */
  const newClosure = (root: string): RetainedOutput[] => {
    const found: RetainedOutput[] = [];
    const seen = new Set<string>();
    const stack = [root];
    while (stack.length > 0) {
      const path = stack.pop()!;
      if (seen.has(path) || kept.has(path)) continue;
      seen.add(path);
      const item = byPath.get(path);
      if (item === undefined) continue;
      found.push(item);
      for (const ref of item.references) if (!seen.has(ref)) stack.push(ref);
    }
    return found;
  };
  const keepAll = (items: readonly RetainedOutput[]): void => {
    for (const item of items) {
      kept.add(item.storePath);
      keptBytes += item.bytes;
    }
  };

  for (const path of input.needed) keepAll(newClosure(path));
  const budget = policy.narBudgetBytes;
  const overBudget = budget !== null && keptBytes > budget;
  const cutoff = policy.outputDays === null ? -Infinity : now - policy.outputDays * DAY_MS;
  const young = input.outputs.filter((o) => o.keptSince >= cutoff).sort(youngestFirst);
  for (const root of young) {
    const more = newClosure(root.storePath);
    const bytes = more.reduce((n, o) => n + o.bytes, 0);
    // Over budget: this root and every older one go (oldest first).
    if (budget !== null && keptBytes + bytes > budget) break;
    keepAll(more);
  }

  const removeOutputs = input.outputs
    .filter((o) => !kept.has(o.storePath))
    .sort((a, b) => -youngestFirst(a, b));
  const logCutoff = policy.logDays === null ? -Infinity : now - policy.logDays * DAY_MS;
  const removeLogs = input.logs.filter((l) => l.endedAt < logCutoff);
  return {
    removeOutputs,
    removeLogs,
    kept,
    keptBytes,
    freedBytes: removeOutputs.reduce((n, o) => n + o.bytes, 0),
    overBudget,
  };
}

function youngestFirst(a: RetainedOutput, b: RetainedOutput): number {
  return b.keptSince - a.keptSince || (a.storePath < b.storePath ? -1 : a.storePath > b.storePath ? 1 : 0);
}
