// The retention policy: how long the coordinator keeps stored outputs (NARs
// with their metadata) and build logs, and how many bytes of NARs it may hold.
// Every limit is optional; an empty policy keeps everything.

/** What retention keeps; see the file header. `null` or absent = no limit. */
export interface RetentionPolicy {
  /**
   * Keep an output for this many days after the latest successful build that
   * produced it ended (or after it was uploaded, for input sources). Older
   * outputs go unless something kept refers to them or an unfinished build
   * needs them.
   */
  readonly outputDays?: number | null;
  /** Drop the logs of attempts that ended more than this many days ago. */
  readonly logDays?: number | null;
  /**
   * Largest total size of stored NAR files, in bytes. When the outputs kept by
   * age exceed it, the oldest go first (never one that a kept output refers to,
   * nor an input of an unfinished build).
   */
  readonly narBudgetBytes?: number | null;
  /**
   * Stored NARs and logs that no metadata or attempt names (e.g. uploaded by
   * a build canceled afterwards, or left by a crash between the two steps of a
   * removal) are removed once older than this many seconds. Default 86400.
   */
  readonly orphanGraceSeconds?: number;
}

/** A policy with every field present. */
export type ResolvedRetentionPolicy = Required<RetentionPolicy>;

/** Checks a policy and fills in the defaults; throws RangeError on a negative or non-numeric limit. */
export function resolveRetentionPolicy(policy: RetentionPolicy): ResolvedRetentionPolicy {
  return {
    outputDays: limit('outputDays', policy.outputDays),
    logDays: limit('logDays', policy.logDays),
    narBudgetBytes: limit('narBudgetBytes', policy.narBudgetBytes),
    orphanGraceSeconds: limit('orphanGraceSeconds', policy.orphanGraceSeconds) ?? 86400,
  };
}

/** Whether the policy would remove anything referenced by the datastore (orphans aside). */
export function policyLimitsAnything(policy: ResolvedRetentionPolicy): boolean {
  return policy.outputDays !== null || policy.logDays !== null || policy.narBudgetBytes !== null;
}

function limit(name: string, n: number | null | undefined): number | null {
  if (n === undefined || n === null) return null;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw new RangeError(`retention.${name} must be a number >= 0, got ${String(n)}`);
  return n;
}
