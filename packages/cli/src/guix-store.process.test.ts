// submit-build with Guix's store directory: derivations instantiated into a
// `local?store=/gnu/store&root=R` store (files under R/nix/store), submitted
// with --real-store-dir to a coordinator started with --store-dir /gnu/store.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient } from '@gbc/protocol';
import type { BuildDetail } from '@gbc/protocol';
import { cleanEnv, runGbc, startCoordinator } from './testing/gbc-process.js';
import type { CoordinatorProcess } from './testing/gbc-process.js';

let dir: string;
let coordinator: CoordinatorProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbc-guix-'));
  coordinator = await startCoordinator(dir, [
    '--database',
    `sqlite://${join(dir, 'gbc.db')}`,
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--store-dir',
    '/gnu/store',
    '--log-level',
    'warn',
  ]);
});

afterAll(async () => {
  // undefined when beforeAll failed before the coordinator started
  const started = coordinator as CoordinatorProcess | undefined;
  expect(await started?.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('gbc submit-build with /gnu/store', () => {
  it('uploads /gnu/store derivations and sources read from the real store directory', async () => {
    const root = join(dir, 'root');
    writeFileSync(
      join(dir, 'guix.nix'),
      `
let
  inner = builtins.toFile "gbc-guix-inner" "${randomUUID()}";
  outer = builtins.toFile "gbc-guix-outer" "load \${inner}";
  dep = derivation { name = "gbc-guix-dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
in derivation { name = "gbc-guix-top"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "cat \${outer} \${dep} > $out" ]; PATH = "/usr/bin:/bin"; }
`,
    );
    const env = cleanEnv();
    delete env.NIX_REMOTE;
    const store = `local?store=/gnu/store&root=${root}`;
    const drv = execFileSync('nix-instantiate', ['--store', store, join(dir, 'guix.nix')], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    expect(drv).toMatch(/^\/gnu\/store\/[a-z0-9]{32}-gbc-guix-top\.drv$/);
    const closure = execFileSync('nix-store', ['--store', store, '-qR', drv], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .split('\n');
    expect(closure).toHaveLength(4);

    const run = await runGbc(
      [
        'submit-build',
        drv,
        '--real-store-dir',
        join(root, 'nix/store'),
        '--coordinator',
        coordinator.clientUrl,
        '--json',
      ],
      { cwd: dir },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [build] = (JSON.parse(run.stdout) as { builds: Array<{ uuid: string; created: boolean }> }).builds;
    expect(build!.created).toBe(true);
    const client = new CoordinatorClient({ baseUrl: coordinator.clientUrl });
    expect((await client.missingPaths(closure)).missing).toEqual([]);
    const shown = JSON.parse(
      (
        await runGbc(['build', 'show', build!.uuid, '--json', '--coordinator', coordinator.clientUrl], {
          cwd: dir,
        })
      ).stdout,
    ) as BuildDetail;
    expect(shown.derivation).toBe(drv);
    expect(shown.outputs[0]!.path).toMatch(/^\/gnu\/store\/[a-z0-9]{32}-gbc-guix-top$/);
  }, 120_000);
});
