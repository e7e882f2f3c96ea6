// Time limits of a build as an agent receives them: the build's own `timeout`
// and `max-silent-time` (submit options), else the farm-wide defaults of the
// coordinator's configuration. Zero or negative values mean "no limit". The
// agent may lower them further with its own cap.
import type { ResolvedConfig } from '../config.js';

/** Seconds, or null for no limit. */
export interface BuildLimits {
  readonly timeoutSeconds: number | null;
  readonly maxSilentTimeSeconds: number | null;
}

/** The limits to send for a build with stored `timeoutS` / `maxSilentTimeS` under `config`'s defaults. */
export function effectiveLimits(
  build: { readonly timeoutS: number | null; readonly maxSilentTimeS: number | null },
  config: Pick<ResolvedConfig, 'buildTimeoutSeconds' | 'maxSilentTimeSeconds'>,
): BuildLimits {
  return {
    timeoutSeconds: positive(build.timeoutS) ?? config.buildTimeoutSeconds,
    maxSilentTimeSeconds: positive(build.maxSilentTimeS) ?? config.maxSilentTimeSeconds,
  };
}

function positive(n: number | null): number | null {
  return n === null || n <= 0 ? null : n;
}
