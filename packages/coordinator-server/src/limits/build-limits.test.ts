// Unit tests of the effective time limits and of the control settings'
// defaults and refusals in the coordinator configuration.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { effectiveLimits } from './build-limits.js';

describe('effectiveLimits', () => {
  const defaults = { buildTimeoutSeconds: 3600, maxSilentTimeSeconds: null };
  it("prefers the build's own positive limits, else the farm-wide defaults", () => {
    expect(effectiveLimits({ timeoutS: 10, maxSilentTimeS: 5 }, defaults)).toEqual({
      timeoutSeconds: 10,
      maxSilentTimeSeconds: 5,
    });
    expect(effectiveLimits({ timeoutS: null, maxSilentTimeS: null }, defaults)).toEqual({
      timeoutSeconds: 3600,
      maxSilentTimeSeconds: null,
    });
    expect(effectiveLimits({ timeoutS: 0, maxSilentTimeS: -1 }, defaults)).toEqual({
      timeoutSeconds: 3600,
      maxSilentTimeSeconds: null,
    });
  });
});

describe('control settings of the configuration', () => {
  it('defaults to auto client auth, loopback-only, no limits, no retention', () => {
    const c = resolveConfig({ databaseUri: 'sqlite::memory:' });
    expect(c).toMatchObject({
      clientAuth: 'auto',
      allowUnauthenticatedClients: false,
      clientTokenCacheMs: 5000,
      buildTimeoutSeconds: null,
      maxSilentTimeSeconds: null,
      retentionIntervalSeconds: 0,
    });
    expect(c.retention).toEqual({
      outputDays: null,
      logDays: null,
      narBudgetBytes: null,
      orphanGraceSeconds: 86400,
    });
  });

  it('refuses nonsense with a message naming the setting', () => {
    const base = { databaseUri: 'sqlite::memory:' };
    expect(() => resolveConfig({ ...base, clientAuth: 'yes' as 'auto' })).toThrow(/clientAuth/);
    expect(() => resolveConfig({ ...base, buildTimeoutSeconds: 1.5 })).toThrow(/buildTimeoutSeconds/);
    expect(() => resolveConfig({ ...base, maxSilentTimeSeconds: 0 })).toThrow(/maxSilentTimeSeconds/);
    expect(() => resolveConfig({ ...base, retentionIntervalSeconds: -1 })).toThrow(
      /retentionIntervalSeconds/,
    );
    expect(() => resolveConfig({ ...base, retention: { narBudgetBytes: Number.NaN } })).toThrow(
      /retention\.narBudgetBytes/,
    );
  });
});
