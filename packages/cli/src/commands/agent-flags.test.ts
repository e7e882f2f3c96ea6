// The Guix service's spellings as gbc agent reads them: URL lists from the
// singular repeatable flag and the plural space-separated one, and
// --timestamp-log-output's values.
import { describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../errors.js';
import { booleanFlag, urlList } from './agent.js';

describe('urlList', () => {
  it('joins the singular flags and the space-separated plural ones, in order, once each', () => {
    expect(urlList(undefined, undefined)).toBeUndefined();
    expect(urlList(['http://a'], undefined)).toEqual(['http://a']);
    expect(urlList(undefined, ['http://a  http://b\thttp://c', ' http://d '])).toEqual([
      'http://a',
      'http://b',
      'http://c',
      'http://d',
    ]);
    expect(urlList(['http://b', 'http://a'], ['http://a http://c'])).toEqual([
      'http://b',
      'http://a',
      'http://c',
    ]);
    expect(urlList(undefined, [''])).toEqual([]);
  });
});

describe('booleanFlag', () => {
  it('reads absent, bare, true/false words and --no- forms', () => {
    expect(booleanFlag('--timestamp-log-output', undefined, true)).toBe(true);
    expect(booleanFlag('--timestamp-log-output', undefined, false)).toBe(false);
    expect(booleanFlag('--timestamp-log-output', '', false)).toBe(true);
    for (const word of ['true', 'TRUE', 'yes', '1']) expect(booleanFlag('--x', word, false)).toBe(true);
    for (const word of ['false', 'False', 'no', '0']) expect(booleanFlag('--x', word, true)).toBe(false);
    expect(booleanFlag('--x', false, true)).toBe(false);
    expect(booleanFlag('--x', ['true', 'false'], true)).toBe(false);
  });

  it('refuses any other value as a usage error naming the flag', () => {
    for (const value of ['maybe', 'ture', '2', 'x'.repeat(10_000)]) {
      let error: unknown;
      try {
        booleanFlag('--timestamp-log-output', value, true);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(ExitCode.usage);
      expect((error as CliError).message.length).toBeLessThan(200);
      expect((error as CliError).message).toMatch(/^--timestamp-log-output takes true or false/);
    }
  });
});
