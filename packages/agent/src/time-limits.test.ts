import { describe, expect, it } from 'vitest';
import { cappedLimits } from './time-limits.js';

describe('cappedLimits', () => {
  it('keeps the limits a build arrived with when the agent has no caps', () => {
    expect(cappedLimits({ timeoutSeconds: 3600, maxSilentTimeSeconds: null }, {})).toEqual({
      timeoutSeconds: 3600,
      maxSilentTimeSeconds: null,
    });
  });

  it('lowers a longer limit to the cap and keeps a shorter one', () => {
    const caps = { maxBuildTimeoutSeconds: 600, maxBuildSilentSeconds: 60 };
    expect(cappedLimits({ timeoutSeconds: 3600, maxSilentTimeSeconds: 30 }, caps)).toEqual({
      timeoutSeconds: 600,
      maxSilentTimeSeconds: 30,
    });
  });

  it('applies a cap to a build that arrived without a limit', () => {
    expect(
      cappedLimits({ timeoutSeconds: null, maxSilentTimeSeconds: null }, { maxBuildSilentSeconds: 120 }),
    ).toEqual({ timeoutSeconds: null, maxSilentTimeSeconds: 120 });
  });
});
