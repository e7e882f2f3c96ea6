// The control commands as real processes: `gbc client-token` on the database
// of a `gbc coordinator` started with --client-auth required and the control
// flags, client commands with --token / GBC_TOKEN, submit time limits, and
// `gbc retention run` through the client API.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildDetail, ClientTokenList, CreatedClientToken, RetentionReport } from '@gbc/protocol';
import { ExitCode } from '../errors.js';
import { runGbc, startCoordinator } from '../testing/gbc-process.js';
import type { CoordinatorProcess, GbcRun } from '../testing/gbc-process.js';
import { instantiateTestDerivations } from '../testing/nix-derivations.js';
import type { TestDerivations } from '../testing/nix-derivations.js';

const PROCESS_TIMEOUT = 120_000;
let dir: string;
let database: string;
let coordinator: CoordinatorProcess;
let drvs: TestDerivations;
let admin: CreatedClientToken;
const client = (args: string[], env: Record<string, string> = {}): Promise<GbcRun> =>
  runGbc([...args, '--coordinator', coordinator.clientUrl], { cwd: dir, env });
const ok = <T>(run: GbcRun): T => {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbc-control-'));
  database = `sqlite://${join(dir, 'gbc.db')}`;
  drvs = instantiateTestDerivations(dir, randomUUID());
  // The bootstrap: the first token is made on the database before the coordinator runs.
  admin = ok<CreatedClientToken>(
    await runGbc(['client-token', 'new', 'admin', '--json'], { cwd: dir, env: { GBC_DATABASE: database } }),
  );
  coordinator = await startCoordinator(dir, [
    '--database',
    database,
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--store-dir',
    '/nix/store',
    '--log-level',
    'warn',
    '--client-auth',
    'required',
    '--build-timeout',
    '600',
    '--max-silent-time',
    '30',
    '--retention-log-days',
    '7',
    '--retention-nar-budget',
    '1G',
    '--retention-interval',
    '0',
  ]);
}, PROCESS_TIMEOUT);

afterAll(async () => {
  // undefined when beforeAll failed before the coordinator started
  const started = coordinator as CoordinatorProcess | undefined;
  const code = await started?.stop();
  expect(code).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('gbc client-token and the control flags', () => {
  it(
    'prints a read-write token once and lists it without its secret',
    async () => {
      expect(admin.token.scope).toBe('read-write');
      expect(admin.secret.length).toBeGreaterThan(20);
      const list = ok<ClientTokenList>(
        await runGbc(['client-token', 'list', '--json', '--database', database], { cwd: dir }),
      );
      expect(list.tokens.map((t) => [t.id, t.name, t.scope])).toEqual([
        [admin.token.id, 'admin', 'read-write'],
      ]);
      expect(JSON.stringify(list)).not.toContain(admin.secret);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'refuses client requests without a token or with a wrong one, and accepts --token and GBC_TOKEN',
    async () => {
      const [none, wrong, flag, env] = await Promise.all([
        client(['builds', 'list', '--json']),
        client(['builds', 'list', '--json', '--token', 'not-a-token']),
        client(['builds', 'list', '--json', '--token', admin.secret]),
        client(['builds', 'list', '--json'], { GBC_TOKEN: admin.secret }),
      ]);
      for (const refused of [none, wrong]) {
        expect(refused.code).toBe(ExitCode.failure);
        expect(refused.stderr).toMatch(/^gbc: unauthorized: /);
      }
      expect(ok<{ builds: unknown[] }>(flag).builds).toEqual([]);
      expect(ok<{ builds: unknown[] }>(env).builds).toEqual([]);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a read-only token reads but cannot submit; a submit time limit is stored with the build',
    async () => {
      const reader = ok<CreatedClientToken>(
        await runGbc(['client-token', 'new', 'dashboard', '--read-only', '--json', '--database', database], {
          cwd: dir,
        }),
      );
      expect(reader.token.scope).toBe('read');
      const refused = await client(['submit-build', drvs.other, '--token', reader.secret]);
      expect(refused.code).toBe(ExitCode.failure);
      expect(refused.stderr).toMatch(/^gbc: forbidden: /);
      expect(
        ok<{ builds: unknown[] }>(await client(['builds', 'list', '--json', '--token', reader.secret]))
          .builds,
      ).toEqual([]);

      const submitted = ok<{ builds: { uuid: string }[] }>(
        await client(['submit-build', drvs.other, '--json', '--timeout', '50'], { GBC_TOKEN: admin.secret }),
      );
      const build = ok<BuildDetail>(
        await client(['build', 'show', submitted.builds[0]!.uuid, '--json', '--token', reader.secret]),
      );
      expect(build.timeoutSeconds).toBe(50);
      // The farm default (--max-silent-time 30) is applied when an agent takes the build, not stored with it.
      expect(build.maxSilentTimeSeconds).toBeNull();
      const badLimit = await client([
        'submit-build',
        drvs.other,
        '--max-silent-time',
        '0',
        '--token',
        admin.secret,
      ]);
      expect(badLimit.code).toBe(ExitCode.usage);

      ok(
        await runGbc(['client-token', 'revoke', reader.token.id, '--database', database, '--json'], {
          cwd: dir,
        }),
      );
      const left = ok<ClientTokenList>(
        await runGbc(['client-token', 'list', '--json', '--database', database], { cwd: dir }),
      );
      expect(left.tokens.map((t) => t.name)).toEqual(['admin']);
      const again = await runGbc(['client-token', 'revoke', reader.token.id, '--database', database], {
        cwd: dir,
      });
      expect(again.code).toBe(ExitCode.failure);
      expect(again.stderr).toMatch(/token-not-found/);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'gbc retention run applies the coordinator policy through the client API (dry run changes nothing)',
    async () => {
      const dry = ok<RetentionReport>(
        await client(['retention', 'run', '--dry-run', '--json', '--token', admin.secret]),
      );
      expect(dry).toMatchObject({ dryRun: true, removedNars: 0, removedLogs: 0, freedBytes: 0 });
      const real = ok<RetentionReport>(await client(['retention', 'run', '--json', '--token', admin.secret]));
      expect(real.dryRun).toBe(false);
      const anonymous = await client(['retention', 'run']);
      expect(anonymous.code).toBe(ExitCode.failure);
      expect(anonymous.stderr).toMatch(/unauthorized/);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'refuses an unauthenticated client API beyond loopback unless told, and a Guix signing key that is not one',
    async () => {
      const open = [
        '--database',
        'sqlite::memory:',
        '--agent-communication',
        'http://127.0.0.1:0',
        '--client-communication',
        'http://0.0.0.0:0',
        '--log-level',
        'error',
      ];
      writeFileSync(join(dir, 'not-guix.sec'), '(public-key (ecc (curve Ed25519) (q #00#)))');
      const [refused, badKey] = await Promise.all([
        runGbc(['coordinator', ...open], { cwd: dir }),
        runGbc(
          ['coordinator', ...open, '--client-allow-unauthenticated', '--guix-signing-key', 'not-guix.sec'],
          { cwd: dir },
        ),
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/0\.0\.0\.0/);
      expect(badKey.code).not.toBe(0);
      expect(badKey.stderr).toMatch(/guix-key-bad/);
      const allowed = await startCoordinator(mkdtempSync(join(dir, 'open-')), [
        ...open,
        '--client-allow-unauthenticated',
      ]);
      try {
        expect(allowed.clientUrl).toMatch(/^http:\/\/[0-9.]+:[1-9][0-9]*$/);
        const list = await runGbc(['builds', 'list', '--json', '--coordinator', allowed.clientUrl], {
          cwd: dir,
        });
        expect(list.code).toBe(0);
        expect((JSON.parse(list.stdout) as { builds: unknown[] }).builds).toEqual([]);
      } finally {
        expect(await allowed.stop()).toBe(0);
      }
    },
    PROCESS_TIMEOUT,
  );

  it(
    'refuses a size budget it cannot read and a zero agent status interval',
    async () => {
      const run = await runGbc(
        ['coordinator', '--database', 'sqlite::memory:', '--retention-nar-budget', 'lots'],
        { cwd: dir },
      );
      expect(run.code).toBe(ExitCode.usage);
      expect(run.stderr).toMatch(/retention-nar-budget: cannot read "lots"/);
      const agent = await runGbc(
        [
          'agent',
          '--coordinator-url',
          'http://127.0.0.1:1',
          '--status-interval',
          '0',
          '--state-dir',
          join(dir, 'agent-state'),
        ],
        { cwd: dir },
      );
      expect(agent.code).toBe(ExitCode.usage);
      expect(agent.stderr).toMatch(/--status-interval must be a positive number/);
    },
    PROCESS_TIMEOUT,
  );
});
