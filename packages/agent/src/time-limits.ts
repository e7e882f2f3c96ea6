// The time limits a build runs under: the ones it arrived with (its own, or
// the coordinator's farm-wide defaults), lowered to the agent's own caps. A
// cap applies to builds that arrived without a limit too, so an agent can
// bound every build on its machine whatever the coordinator sends.

/** A build's time limits in seconds; null for none. */
export interface TimeLimits {
  readonly timeoutSeconds: number | null;
  readonly maxSilentTimeSeconds: number | null;
}

/** The agent's caps in seconds; undefined for none. */
export interface TimeLimitCaps {
  readonly maxBuildTimeoutSeconds?: number | undefined;
  readonly maxBuildSilentSeconds?: number | undefined;
}

/** `limits` lowered to `caps`. */
export function cappedLimits(limits: TimeLimits, caps: TimeLimitCaps): TimeLimits {
  return {
    timeoutSeconds: lower(limits.timeoutSeconds, caps.maxBuildTimeoutSeconds),
    maxSilentTimeSeconds: lower(limits.maxSilentTimeSeconds, caps.maxBuildSilentSeconds),
  };
}

function lower(limit: number | null, cap: number | undefined): number | null {
  if (cap === undefined) return limit;
  return limit === null ? cap : Math.min(limit, cap);
}
