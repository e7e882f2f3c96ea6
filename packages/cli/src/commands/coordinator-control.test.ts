// Unit tests of the coordinator's control flags: sizes and limits read, bad values refused.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CliError } from '../errors.js';
import { controlSettingsOf, parseSize } from './coordinator-control.js';

describe('parseSize', () => {
  it('reads bytes and K/M/G/T as powers of 1024', () => {
    expect(parseSize(1048576)).toBe(1048576);
    expect(parseSize('512')).toBe(512);
    expect(parseSize('2K')).toBe(2048);
    expect(parseSize('1.5M')).toBe(1.5 * 1024 ** 2);
    expect(parseSize('10GiB')).toBe(10 * 1024 ** 3);
    expect(parseSize('1t')).toBe(1024 ** 4);
  });

  it('any whole count with any unit is that many units', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.constantFrom('', 'K', 'M', 'G'), (n, unit) => {
        expect(parseSize(`${n}${unit}`)).toBe(n * 1024 ** ' KMG'.indexOf(unit || ' '));
      }),
    );
  });

  it('refuses what is not a size', () => {
    for (const bad of ['lots', '-1', '1X', '']) expect(() => parseSize(bad)).toThrow(CliError);
  });
});

describe('controlSettingsOf', () => {
  it('maps the flags to coordinator options and leaves absent ones to the defaults', () => {
    expect(controlSettingsOf({})).toEqual({});
    expect(
      controlSettingsOf({
        'client-auth': 'required',
        'client-allow-unauthenticated': true,
        'build-timeout': 3600,
        'max-silent-time': 60,
        'retention-output-days': 30,
        'retention-log-days': 90,
        'retention-nar-budget': '1G',
        'retention-interval': 3600,
      }),
    ).toEqual({
      clientAuth: 'required',
      allowUnauthenticatedClients: true,
      buildTimeoutSeconds: 3600,
      maxSilentTimeSeconds: 60,
      retention: { outputDays: 30, logDays: 90, narBudgetBytes: 1024 ** 3 },
      retentionIntervalSeconds: 3600,
    });
  });

  it('refuses a zero or fractional time limit and a negative retention age', () => {
    expect(() => controlSettingsOf({ 'max-silent-time': 0 })).toThrow(/max-silent-time/);
    expect(() => controlSettingsOf({ 'build-timeout': 1.5 })).toThrow(/build-timeout/);
    expect(() => controlSettingsOf({ 'retention-log-days': -1 })).toThrow(/retention-log-days/);
  });
});
