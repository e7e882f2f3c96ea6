// layeredOptions: environment over file over declared default, flags over all; only declared keys are read.
import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { envNameOf, layeredOptions } from './layered-options.js';

const parse = (argv: string[], file: Record<string, unknown>, env: Record<string, string>) =>
  layeredOptions(yargs(argv), { file, env }, {
    database: { type: 'string', default: 'sqlite://gbc.db' },
    'lease-seconds': { type: 'number' },
    verbose: { type: 'boolean', default: false },
    'substitute-url': { type: 'string', array: true },
  } as const)
    .strict()
    .exitProcess(false)
    .parseSync();

describe('layeredOptions', () => {
  it('names environment variables GBC_ + upper snake case', () => {
    expect(envNameOf('agent-communication')).toBe('GBC_AGENT_COMMUNICATION');
  });

  it('takes the flag, else the environment, else the file, else the default', () => {
    const file = { database: 'file', 'lease-seconds': 10, unrelated: 'ignored' };
    expect(parse([], {}, {}).database).toBe('sqlite://gbc.db');
    expect(parse([], file, {}).database).toBe('file');
    expect(parse([], file, { GBC_DATABASE: 'env' }).database).toBe('env');
    expect(parse(['--database', 'flag'], file, { GBC_DATABASE: 'env' }).database).toBe('flag');
  });

  it('reads environment values as the declared type', () => {
    const a = parse(
      [],
      {},
      { GBC_LEASE_SECONDS: '42', GBC_VERBOSE: 'yes', GBC_SUBSTITUTE_URL: 'https://a https://b' },
    );
    expect([a['lease-seconds'], a.verbose, a['substitute-url']]).toEqual([
      42,
      true,
      ['https://a', 'https://b'],
    ]);
  });
});
