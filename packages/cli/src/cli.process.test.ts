// The gbc command as real processes against a coordinator started by
// `gbc coordinator` (SQLite in a temporary directory, free ports), with real
// derivations from nix-instantiate.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient } from '@gbc/protocol';
import type { Build, BuildDetail, WhyResponse } from '@gbc/protocol';
import { ExitCode } from './errors.js';
import { runGbc, startCoordinator, startGbc, waitFor } from './testing/gbc-process.js';
import type { CoordinatorProcess, GbcRun } from './testing/gbc-process.js';
import { instantiateTestDerivations } from './testing/nix-derivations.js';
import type { TestDerivations } from './testing/nix-derivations.js';

/** Each test runs several gbc processes (about a second each on a loaded machine). */
const PROCESS_TIMEOUT = 120_000;
let dir: string;
let coordinator: CoordinatorProcess;
let drvs: TestDerivations;
const gbc = (args: string[], stdin?: string): Promise<GbcRun> =>
  runGbc([...args, '--coordinator', coordinator.clientUrl], {
    cwd: dir,
    ...(stdin === undefined ? {} : { stdin }),
  });
const json = <T>(run: GbcRun): T => {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
};
/** A coordinator's database in `place`, every address on a free loopback port, the cache port on 2 processes. */
const servedFrom = (place: string): string[] => [
  '--database',
  `sqlite://${join(place, 'gbc.db')}`,
  '--agent-communication',
  'http://127.0.0.1:0',
  '--client-communication',
  'http://127.0.0.1:0',
  '--cache-communication',
  'http://127.0.0.1:0',
  '--cache-processes',
  '2',
];
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** One readable line on stderr, no stack trace. */
const oneLine = (run: GbcRun): string => {
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^gbc: /);
  return lines[0]!;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbc-cli-'));
  drvs = instantiateTestDerivations(dir, randomUUID());
  // Hooks come from the configuration file: a command hook records submissions.
  writeFileSync(
    join(dir, 'gbc.config.json'),
    JSON.stringify({
      hooks: { 'build-submitted': [{ command: ['/bin/sh', '-c', 'cat >> submitted.jsonl'] }] },
      'parallel-hooks': { 'build-submitted': 2 },
    }),
  );
  coordinator = await startCoordinator(dir, [
    ...servedFrom(dir),
    '--cache-ttl',
    '600',
    '--cache-negative-ttl',
    '5',
    '--store-dir',
    '/nix/store',
    '--pid-file',
    'gbc.pid',
    '--log-level',
    'warn',
  ]);
});

afterAll(async () => {
  // undefined when beforeAll failed before the coordinator started
  const started = coordinator as CoordinatorProcess | undefined;
  const code = await started?.stop();
  expect(code).toBe(0);
  // Its cache helper ended with it.
  expect((started?.cacheHelperPids ?? []).filter(isAlive)).toEqual([]);
  expect(existsSync(join(dir, 'gbc.pid'))).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

describe('gbc against a coordinator it started', () => {
  it(
    'writes the pid file of the running coordinator',
    () => {
      expect(readFileSync(join(dir, 'gbc.pid'), 'utf8').trim()).toBe(String(coordinator.pid));
    },
    PROCESS_TIMEOUT,
  );

  it(
    'serves the binary cache on the address of --cache-communication too',
    async () => {
      expect(coordinator.cacheUrl).toBeDefined();
      const info = await fetch(`${coordinator.cacheUrl}/nix-cache-info`);
      expect(await info.text()).toContain('StoreDir: /nix/store');
      // --cache-negative-ttl: a narinfo not held is answered 404, cacheable that long.
      const missing = await fetch(`${coordinator.cacheUrl}/${'0'.repeat(32)}.narinfo`);
      expect([missing.status, missing.headers.get('cache-control')]).toEqual([404, 'max-age=5']);
      // --cache-processes 2: one helper process shares the port; every connection gets the same answers.
      expect(coordinator.cacheHelperPids?.filter(isAlive)).toHaveLength(1);
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${coordinator.cacheUrl}/${'0'.repeat(32)}.narinfo`, { headers: { Connection: 'close' } }),
        ),
      );
      expect(answers.map((a) => [a.status, a.headers.get('cache-control')])).toEqual(
        Array(12).fill([404, 'max-age=5']),
      );
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a cache helper process ends when its coordinator is killed',
    async () => {
      const own = mkdtempSync(join(dir, 'killed-'));
      const killed = await startCoordinator(own, [...servedFrom(own)]);
      const [helper] = killed.cacheHelperPids ?? [];
      expect(helper !== undefined && isAlive(helper)).toBe(true);
      process.kill(killed.pid, 'SIGKILL');
      await killed.stop();
      // No coordinator to tell it anything: it exits rather than serve alone.
      await waitFor(() => (isAlive(helper!) ? undefined : true));
    },
    PROCESS_TIMEOUT,
  );

  it(
    'submits derivations with their closure and sources, then shows, lists, reprioritises and cancels them',
    async () => {
      const submitted = await gbc([
        'submit-build',
        drvs.top,
        drvs.other,
        '--priority',
        '5',
        '--tag',
        'suite=cli',
        '--tag',
        'run=1',
      ]);
      expect(submitted.code).toBe(0);
      const ids = submitted.stdout.trim().split('\n');
      expect(ids).toHaveLength(2);
      // Both sources reached the coordinator, the referenced one first; the input derivation too.
      const client = new CoordinatorClient({ baseUrl: coordinator.clientUrl });
      expect((await client.missingPaths([drvs.referenced, drvs.used, drvs.dep, drvs.top])).missing).toEqual(
        [],
      );

      // Reads and the priority change do not depend on each other: run them together.
      const [listRun, showRun, showText, priorityRun, again, sameOutputs] = await Promise.all([
        gbc(['builds', 'list', '--json', '--tag', 'suite=cli']),
        gbc(['build', 'show', ids[0]!, '--json']),
        gbc(['build', 'show', ids[0]!]),
        gbc(['build', 'update-priority', ids[1]!, '9', '--json']),
        gbc(['submit-build', '-', '--ignore-if-build-for-derivation-exists', '--json'], `${drvs.top}\n`),
        gbc(['submit-build', drvs.other, '--ignore-if-build-for-outputs-exists', '--json']),
      ]);
      const listed = json<{ builds: Build[] }>(listRun);
      expect(listed.builds.map((b) => b.uuid).sort()).toEqual([...ids].sort());
      expect(listed.builds.every((b) => b.state === 'queued')).toBe(true);
      const shown = json<BuildDetail>(showRun);
      expect([shown.derivation, shown.priority]).toEqual([drvs.top, 5]);
      expect(shown.tags).toHaveLength(2);
      expect(shown.tags).toEqual(
        expect.arrayContaining([
          { key: 'suite', value: 'cli' },
          { key: 'run', value: '1' },
        ]),
      );
      expect(showText.stdout).toMatch(new RegExp(`derivation\\s+${drvs.top.replace(/[.]/g, '\\.')}`));
      expect(json<Build>(priorityRun).priority).toBe(9);
      const urgent = json<{ builds: Build[] }>(
        await gbc(['builds', 'list', '--json', '--tag', 'suite=cli', '--priority-min', '6']),
      );
      expect(urgent.builds.map((b) => b.uuid)).toEqual([ids[1]]);
      const re = json<{ builds: Array<{ uuid: string; created: boolean }> }>(again);
      expect(re.builds).toEqual([expect.objectContaining({ uuid: ids[0], created: false })]);
      // A build for the same outputs exists (the one just submitted): nothing new.
      expect(json<{ builds: Array<{ uuid: string; created: boolean }> }>(sameOutputs).builds).toEqual([
        expect.objectContaining({ uuid: ids[1], created: false }),
      ]);

      const why = json<WhyResponse>(await gbc(['build', 'why', ids[0]!, '--json']));
      expect(why.state).toBe('queued');
      const hooked = await waitFor(() => {
        const file = join(dir, 'submitted.jsonl');
        const lines = existsSync(file)
          ? readFileSync(file, 'utf8')
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as { type: string; build: string })
          : [];
        return lines.length >= 2 ? lines : undefined;
      });
      expect(hooked.map((e) => [e.type, e.build]).sort()).toEqual(
        ids.map((id) => ['build-submitted', id]).sort(),
      );
      expect(why.reasons.map((r) => r.kind)).toContain('no-matching-agent');

      const canceled = await gbc(['build', 'cancel', ids[0]!]);
      expect(canceled.code).toBe(0);
      expect(canceled.stdout).toContain(ids[0]);
      const twice = await gbc(['build', 'cancel', ids[0]!]);
      expect(twice.code).toBe(ExitCode.failure);
      expect(oneLine(twice)).toContain('conflict');
      expect((await gbc(['build', 'cancel', ids[0]!, '--ignore-if-finished'])).code).toBe(0);

      const byTag = json<{ canceled: string[] }>(
        await gbc(['builds', 'cancel', '--tag', 'suite=cli', '--json']),
      );
      expect(byTag.canceled).toEqual([ids[1]]);
      const watched = await gbc(['build', 'watch', ids[1]!]);
      expect(watched.code).toBe(ExitCode.buildFailed);
      expect(watched.stdout).toContain('canceled');
    },
    PROCESS_TIMEOUT,
  );

  it(
    'administers agents, dynamic-auth tokens and shows the allocation plan and the hooks',
    async () => {
      const created = json<{ agent: { uuid: string; name: string }; password: string }>(
        await gbc(['agent', 'new', 'builder-1', '--tag', 'arch=x86', '--json']),
      );
      expect(created.agent.name).toBe('builder-1');
      expect(created.password.length).toBeGreaterThanOrEqual(16);
      const id = created.agent.uuid;
      expect((await gbc(['agent', 'list'])).stdout).toMatch(
        new RegExp(`${id}\\s+active\\s+builder-1\\s+arch=x86`),
      );
      expect(
        json<{ tags: unknown[] }>(await gbc(['agent', 'tag', id, 'arch=arm', 'fast=yes', '--json'])).tags,
      ).toHaveLength(2);
      expect(json<{ active: boolean }>(await gbc(['agent', 'deactivate', id, '--json'])).active).toBe(false);
      expect(
        json<{ active: boolean; tags: unknown[] }>(await gbc(['agent', 'show', id, '--json'])).active,
      ).toBe(false);
      expect(json<{ active: boolean }>(await gbc(['agent', 'activate', id, '--json'])).active).toBe(true);
      const [pw, token, planRun, hooksJson, hooksText] = await Promise.all([
        gbc(['agent', 'password', 'new', id]),
        gbc(['dynamic-auth', 'new-token']),
        gbc(['allocation-plan', '--json']),
        gbc(['hooks', '--json']),
        gbc(['hooks']),
      ]);
      expect(json<{ queue: unknown[]; failing: unknown[] }>(hooksJson)).toEqual({
        queue: expect.any(Array),
        failing: [],
      });
      expect(hooksText.stdout).toContain('no failing hooks');
      expect(pw.stdout.trim()).toMatch(/^\S{16,}$/);
      expect(pw.stdout.trim()).not.toBe(created.password);
      expect(token.stdout.trim()).toMatch(/^\S{16,}$/);
      const plan = json<{ strategy: string; agents: Array<{ agent: string }> }>(planRun);
      expect(plan.strategy).toBe('basic');
      expect(plan.agents.map((a) => a.agent)).toContain(id);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'defers a build with --defer-until and says so in why',
    async () => {
      const [build] = json<{ builds: Array<{ uuid: string }> }>(
        await gbc(['submit-build', drvs.other, '--defer-until', '2099-01-01T00:00:00Z', '--json']),
      ).builds;
      const why = json<WhyResponse>(await gbc(['build', 'why', build!.uuid, '--json']));
      expect(why.reasons).toContainEqual({ kind: 'deferred', until: '2099-01-01T00:00:00.000Z' });
      expect((await gbc(['build', 'why', build!.uuid])).stdout).toContain(
        'deferred until 2099-01-01T00:00:00.000Z',
      );
    },
    PROCESS_TIMEOUT,
  );

  it(
    'reports bad input as one line with the documented exit code',
    async () => {
      // Independent runs, started together to keep the suite short.
      const [unknown, badFlag, notDrv, badTag, unreachable, noCommand, badHelpers] = await Promise.all([
        gbc(['build', 'show', randomUUID()]),
        gbc(['builds', 'list', '--bogus-flag']),
        gbc(['submit-build', join(dir, 'test.nix')]),
        gbc(['submit-build', drvs.other, '--tag', 'novalue']),
        runGbc(['builds', 'list', '--coordinator', 'http://127.0.0.1:65534'], { cwd: dir }),
        runGbc([], { cwd: dir }),
        runGbc(['coordinator', '--database', 'sqlite::memory:', '--cache-processes', 'many'], { cwd: dir }),
      ]);
      expect(unknown.code).toBe(ExitCode.failure);
      expect(oneLine(unknown)).toMatch(/not-found/);
      expect(badFlag.code).toBe(ExitCode.usage);
      expect(oneLine(badFlag)).toMatch(/bogus-flag/);
      expect(notDrv.code).toBe(ExitCode.usage);
      expect(oneLine(notDrv)).toMatch(/not a derivation/);
      expect(badTag.code).toBe(ExitCode.usage);
      expect(oneLine(badTag)).toMatch(/key=value/);
      expect(unreachable.code).toBe(ExitCode.unreachable);
      expect(oneLine(unreachable)).toMatch(/cannot reach the coordinator at http:\/\/127\.0\.0\.1:65534/);
      expect(noCommand.code).toBe(ExitCode.usage);
      expect(badHelpers.code).toBe(ExitCode.usage);
      expect(oneLine(badHelpers)).toMatch(
        /--cache-processes must be a whole number from 1 to 64 or auto, not "many"/,
      );
    },
    PROCESS_TIMEOUT,
  );

  it(
    'runs an agent that builds a submitted derivation and its input; watch, log and show follow it',
    async () => {
      const created = json<{ agent: { uuid: string }; password: string }>(
        await gbc(['agent', 'new', 'runner', '--json']),
      );
      writeFileSync(join(dir, 'runner.password'), created.password, { mode: 0o600 });
      // A second agent that creates itself with a dynamic-auth token.
      writeFileSync(join(dir, 'token'), (await gbc(['dynamic-auth', 'new-token'])).stdout.trim(), {
        mode: 0o600,
      });
      const dynamic = startGbc(dir, 'dynamic-agent', [
        'agent',
        '--coordinator-url',
        coordinator.agentUrl,
        '--name',
        'dynamic-1',
        '--dynamic-auth-token-file',
        'token',
        '--store-dir',
        '/nix/store',
        '--state-dir',
        'dynamic-state',
        '--max-1min-load-average',
        '1000',
      ]);
      const agent = startGbc(dir, 'agent', [
        'agent',
        '--coordinator-url',
        coordinator.agentUrl,
        '--uuid',
        created.agent.uuid,
        '--password-file',
        'runner.password',
        '--store-dir',
        '/nix/store',
        '--state-dir',
        'agent-state',
        '--max-1min-load-average',
        '1000',
      ]);
      try {
        const submitted = await gbc([
          'submit-build',
          drvs.top,
          '--ensure-all-related-derivation-outputs-have-successful-builds',
          '--json',
        ]);
        const [build] = json<{ builds: Array<{ uuid: string; relatedBuilds: string[] }> }>(submitted).builds;
        expect(build!.relatedBuilds).toHaveLength(1);
        const watched = await gbc(['build', 'watch', build!.uuid]);
        expect(watched.stdout, `agent log:\n${agent.log()}`).toMatch(
          new RegExp(`${build!.uuid} succeeded\\n$`),
        );
        expect(watched.code).toBe(0);
        const [logRun, showRun, relatedRun, whyRun] = await Promise.all([
          gbc(['build', 'log', build!.uuid]),
          gbc(['build', 'show', build!.uuid, '--json']),
          gbc(['build', 'show', build!.relatedBuilds[0]!, '--json']),
          gbc(['build', 'why', build!.uuid, '--json']),
        ]);
        expect(logRun.stdout).toContain('building top');
        const shown = json<BuildDetail>(showRun);
        expect(shown.state).toBe('succeeded');
        expect(shown.outputs[0]!.narHash).toMatch(/^sha256:/);
        const related = json<BuildDetail>(relatedRun);
        expect([related.derivation, related.state]).toEqual([drvs.dep, 'succeeded']);
        expect(json<{ reasons: Array<{ kind: string }> }>(whyRun).reasons.map((r) => r.kind)).toEqual([
          'finished',
        ]);
        const listed = await waitFor(async () => {
          const agents = json<{ agents: Array<{ name: string; systems: string[] }> }>(
            await gbc(['agent', 'list', '--json']),
          ).agents;
          return agents.find((a) => a.name === 'dynamic-1' && a.systems.length > 0);
        });
        expect(listed.systems).toEqual([expect.stringMatching(/-linux$/)]);
      } finally {
        expect(await agent.stop()).toBe(0);
        expect(await dynamic.stop()).toBe(0);
      }
    },
    PROCESS_TIMEOUT,
  );
});
