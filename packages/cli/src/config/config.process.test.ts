// Configuration precedence through the real command: a file is overridden by
// GBC_* variables, which are overridden by flags; bad files stop with exit 2.
// `gbc coordinator --update-database` shows which database URI won: the
// SQLite file it creates.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { runGbc, startCoordinator } from '../testing/gbc-process.js';

describe('configuration file < environment < flags', { timeout: 120_000 }, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const made = () => ['file.db', 'env.db', 'flag.db', 'gbc.db'].filter((f) => existsSync(join(dir, f)));

  it('takes the database from the file, then the environment, then the flag', async () => {
    writeFileSync(join(dir, 'gbc.config.json'), JSON.stringify({ database: 'sqlite://file.db' }));
    const first = await runGbc(['coordinator', '--update-database', '--json'], { cwd: dir });
    expect(first.code).toBe(0);
    expect((JSON.parse(first.stdout) as { applied: string[] }).applied.length).toBeGreaterThan(0);
    expect(made()).toEqual(['file.db']);
    const second = await runGbc(['coordinator', '--update-database', '--json'], { cwd: dir });
    expect(JSON.parse(second.stdout)).toEqual({ applied: [] });

    expect(
      (
        await runGbc(['coordinator', '--update-database'], {
          cwd: dir,
          env: { GBC_DATABASE: 'sqlite://env.db' },
        })
      ).code,
    ).toBe(0);
    expect(made()).toEqual(['file.db', 'env.db']);

    const flag = await runGbc(['coordinator', '--update-database', '--database', 'sqlite://flag.db'], {
      cwd: dir,
      env: { GBC_DATABASE: 'sqlite://env.db' },
    });
    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(/applied \d+ migration/);
    expect(made()).toEqual(['file.db', 'env.db', 'flag.db']);
  });

  it('reads the file named by --config or GBC_CONFIG, and a JavaScript module', async () => {
    writeFileSync(join(dir, 'one.json'), JSON.stringify({ database: 'sqlite://flag.db' }));
    writeFileSync(join(dir, 'two.mjs'), 'export default () => ({ database: "sqlite://env.db" });');
    const runs = await Promise.all([
      runGbc(['coordinator', '--update-database', '--config', 'one.json'], { cwd: dir }),
      runGbc(['coordinator', '--update-database'], { cwd: dir, env: { GBC_CONFIG: 'two.mjs' } }),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(made()).toEqual(['env.db', 'flag.db']);
  });

  it('applies settings to the client commands too (unreachable coordinator named by the file, overridden by the flag)', async () => {
    writeFileSync(join(dir, 'gbc.config.json'), JSON.stringify({ coordinator: 'http://127.0.0.1:65531' }));
    const [fromFile, fromEnv, fromFlag] = await Promise.all([
      runGbc(['builds', 'list'], { cwd: dir }),
      runGbc(['builds', 'list'], { cwd: dir, env: { GBC_COORDINATOR: 'http://127.0.0.1:65532' } }),
      runGbc(['builds', 'list', '--coordinator', 'http://127.0.0.1:65533'], {
        cwd: dir,
        env: { GBC_COORDINATOR: 'http://127.0.0.1:65532' },
      }),
    ]);
    expect(fromFile.code).toBe(ExitCode.unreachable);
    expect(fromFile.stderr).toMatch(/127\.0\.0\.1:65531\b/);
    expect(fromEnv.stderr).toMatch(/127\.0\.0\.1:65532\b/);
    expect(fromFlag.stderr).toMatch(/127\.0\.0\.1:65533\b/);
  });

  it('runs the allocation strategy named by the file, or by --allocation-strategy over it', async () => {
    writeFileSync(
      join(dir, 'gbc.config.json'),
      JSON.stringify({ 'allocation-strategy': 'derivation-ordered' }),
    );
    const listen = [
      '--agent-communication',
      'http://127.0.0.1:0',
      '--client-communication',
      'http://127.0.0.1:0',
    ];
    for (const [flag, expected] of [
      [[], 'derivation-ordered'],
      [['--allocation-strategy', 'fair-share'], 'fair-share'],
    ] as const) {
      const coordinator = await startCoordinator(dir, [
        ...listen,
        '--database',
        `sqlite://${join(dir, `${expected}.db`)}`,
        ...flag,
      ]);
      try {
        const plan = await runGbc(['allocation-plan', '--json', '--coordinator', coordinator.clientUrl], {
          cwd: dir,
        });
        expect(plan.code).toBe(0);
        expect((JSON.parse(plan.stdout) as { strategy: string }).strategy).toBe(expected);
      } finally {
        expect(await coordinator.stop()).toBe(0);
      }
    }
  });

  it('stops with one line and exit code 2 on a bad or missing file', async () => {
    writeFileSync(join(dir, 'gbc.config.json'), '{"database": ');
    const [bad, missing] = await Promise.all([
      runGbc(['coordinator', '--update-database'], { cwd: dir }),
      runGbc(['builds', 'list', '--config', 'nope.json'], { cwd: dir }),
    ]);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^gbc: cannot read configuration file .*gbc\.config\.json/),
    ]);
    expect(missing.code).toBe(ExitCode.usage);
    expect(missing.stderr).toMatch(/nope\.json does not exist/);
    expect(made()).toEqual([]);
  });

  it('refuses a bad parallel-hooks setting before starting', async () => {
    const run = await runGbc(
      [
        'coordinator',
        '--database',
        'sqlite::memory:',
        '--client-communication',
        'http://127.0.0.1:0',
        '--agent-communication',
        'http://127.0.0.1:0',
      ],
      { cwd: dir, env: { GBC_PARALLEL_HOOKS: 'many' } },
    );
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^gbc: parallel-hooks must be a positive integer/),
    ]);
  });
});
