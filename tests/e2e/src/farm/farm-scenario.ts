// The farm end to end, with real processes only: `gbc coordinator` (SQLite
// or PostgreSQL; /nix/store or /gnu/store) with a signing key, a `publish`
// and a `command` hook; two `gbc agent`s, each with its own nix-daemon and
// store; the 21-derivation graph submitted with `gbc submit-build` and
// followed with `gbc build watch|show|log|why` and `gbc builds list`; then
// every output substituted by Nix from the coordinator's cache (signatures
// required) into a third store, and the publish directory read by Nix too.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient, type Build, type BuildDetail, type WhyResponse } from '@gbc/protocol';
import {
  gbcOk,
  runGbc,
  startGbc,
  startGbcCoordinator,
  type GbcCoordinator,
  type GbcProcess,
} from '../support/gbc-cli.js';
import { startNixDaemon, type NixDaemonProcess } from '../support/nix-daemon-process.js';
import { waitFor } from '../support/wait-for.js';
import {
  BLOCKED,
  DAG_NAMES,
  FAILING,
  SUCCEEDING,
  instantiateFarmDag,
  type DagName,
  type FarmDag,
} from './farm-dag.js';
import { realiseFromCache } from './nix-substitute.js';
import { runReadmeLibraryExample } from './readme-library-example.js';

/** How one farm run is set up. */
export interface FarmOptions {
  readonly label: string;
  /** `/nix/store` (derivations from the daemon) or `/gnu/store` (from a local store under a root). */
  readonly storeDir: string;
  /** A fresh database URI for the coordinator, and how to drop it afterwards. */
  database(dir: string): Promise<{ uri: string; drop(this: void): Promise<void> }>;
  /** Also run the README's library example against this farm (its derivations must be readable from their store directory). */
  readonly runsReadmeLibraryExample?: boolean;
  /** Where the coordinator keeps NARs and logs (`--storage`, e.g. `s3://…`); default its data directory. */
  storage?(this: void): string;
}

const RUN_MS = 240_000;

/** Declares the farm's tests for `options`. */
export function describeFarm(options: FarmOptions): void {
  describe(`a farm: ${options.label}`, () => {
    let dir: string;
    let dropDatabase: () => Promise<void> = () => Promise.resolve();
    const daemons: NixDaemonProcess[] = [];
    const agents: GbcProcess[] = [];
    let coordinator: GbcCoordinator | undefined;
    let dag: FarmDag;
    let publicKey: string;
    const builds = new Map<DagName, Build>();
    const gbc = (...args: string[]) => gbcOk([...args, '--coordinator', coordinator!.clientUrl], dir);
    const shown = async (name: DagName) =>
      JSON.parse(await gbc('build', 'show', builds.get(name)!.uuid, '--json')) as BuildDetail;
    // Many builds at once are read over HTTP with the typed client (one gbc process each would cost seconds apiece on 2 cores).
    const details = (names: readonly DagName[]) =>
      Promise.all(
        names.map((n) =>
          new CoordinatorClient({ baseUrl: coordinator!.clientUrl }).getBuild(builds.get(n)!.uuid),
        ),
      );

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gbc-farm-'));
      const database = await options.database(dir);
      dropDatabase = database.drop;
      await gbcOk(['cache', 'key', 'new', 'farm-1'], dir);
      publicKey = readFileSync(join(dir, 'farm-1.pub'), 'utf8').trim();
      const record = join(dir, 'hook-record.jsonl');
      writeFileSync(
        join(dir, 'gbc.config.json'),
        JSON.stringify({
          hooks: {
            'build-success': [
              { builtin: 'publish', directory: join(dir, 'published') },
              { command: ['/bin/sh', '-c', `cat >> ${record}`] },
            ],
            'build-failure': [{ command: ['/bin/sh', '-c', `cat >> ${record}`] }],
          },
        }),
      );
      coordinator = await startGbcCoordinator(dir, [
        '--config',
        join(dir, 'gbc.config.json'),
        '--database',
        database.uri,
        '--data-dir',
        join(dir, 'data'),
        ...(options.storage === undefined ? [] : ['--storage', options.storage()]),
        '--agent-communication',
        'http://127.0.0.1:0',
        '--client-communication',
        'http://127.0.0.1:0',
        '--store-dir',
        options.storeDir,
        '--signing-key',
        'farm-1.sec',
        '--log-level',
        'warn',
        // This farm's clients are Nix's, even on /gnu/store (whose default is the Guix layout).
        '--cache-flavour',
        'nix',
      ]);
      for (const n of [1, 2]) {
        const daemon = await startNixDaemon(join(dir, `machine-${n}`), options.storeDir);
        daemons.push(daemon);
        const created = JSON.parse(await gbc('agent', 'new', `farm-agent-${n}`, '--json')) as {
          agent: { uuid: string };
          password: string;
        };
        writeFileSync(join(dir, `agent-${n}.password`), created.password, { mode: 0o600 });
        agents.push(
          startGbc(dir, `agent-${n}`, [
            'agent',
            '--coordinator-url',
            coordinator.agentUrl,
            '--uuid',
            created.agent.uuid,
            '--password-file',
            `agent-${n}.password`,
            '--store-dir',
            options.storeDir,
            '--daemon-socket',
            daemon.socket,
            '--state-dir',
            join(dir, `agent-${n}-state`),
            '--max-parallel-builds',
            '2',
            '--max-1min-load-average',
            '1000',
            '--upload-compression',
            n === 1 ? 'zstd' : 'gzip',
            // Idle agents ask often: at the default 2 s, one agent could build the whole graph before the other asked once.
            '--poll-interval',
            '0.2',
          ]),
        );
      }
      const instantiated = join(dir, 'instantiated');
      mkdirSync(instantiated);
      dag = instantiateFarmDag(
        dir,
        randomUUID(),
        options.storeDir,
        options.storeDir === '/nix/store' ? null : instantiated,
      );
    }, RUN_MS);

    afterAll(async () => {
      const codes = await Promise.all(agents.map((a) => a.stop()));
      const coordinatorCode = await coordinator?.stop();
      await Promise.all(daemons.map((d) => d.stop()));
      await dropDatabase();
      rmSync(dir, { recursive: true, force: true });
      expect(codes.every((c) => c === 0)).toBe(true);
      expect(coordinatorCode).toBe(0);
    }, RUN_MS);

    it(
      'builds the graph across two agents: the failure fails, its dependents are blocked, the rest succeed',
      async () => {
        const drvs = DAG_NAMES.map((n) => dag.drvs.get(n)!);
        const submitted = JSON.parse(
          await gbc(
            'submit-build',
            ...drvs,
            '--json',
            ...(dag.realStoreDir === null ? [] : ['--real-store-dir', dag.realStoreDir]),
          ),
        ) as { builds: Array<{ uuid: string; created: boolean }> };
        expect(submitted.builds.filter((b) => b.created)).toHaveLength(DAG_NAMES.length);

        const [top, fail] = await Promise.all([
          runGbc(
            [
              'build',
              'watch',
              submitted.builds[DAG_NAMES.indexOf('top')]!.uuid,
              '--coordinator',
              coordinator!.clientUrl,
            ],
            dir,
          ),
          runGbc(
            [
              'build',
              'watch',
              submitted.builds[DAG_NAMES.indexOf('fail')]!.uuid,
              '--coordinator',
              coordinator!.clientUrl,
            ],
            dir,
          ),
        ]);
        expect(top.code, top.stderr).toBe(0);
        expect(top.stdout).toMatch(/succeeded\n$/);
        expect(fail.code).toBe(4);
        expect(fail.stdout).toMatch(/failed/);

        const listed = JSON.parse(await gbc('builds', 'list', '--json', '--limit', '100')) as {
          builds: Build[];
        };
        for (const b of listed.builds) {
          const name = DAG_NAMES.find((n) => dag.drvs.get(n) === b.derivation);
          if (name !== undefined) builds.set(name, b);
        }
        expect(builds.size).toBe(DAG_NAMES.length);
        const state = (n: DagName) =>
          `${n}: ${builds.get(n)!.state}${builds.get(n)!.blockedByFailedDependency ? ' blocked' : ''}`;
        expect(SUCCEEDING.map(state)).toEqual(SUCCEEDING.map((n) => `${n}: succeeded`));
        expect(FAILING.map(state)).toEqual(FAILING.map((n) => `${n}: failed`));
        expect(BLOCKED.map(state)).toEqual(BLOCKED.map((n) => `${n}: queued blocked`));
        // Both machines built: each agent's store holds outputs it built itself.
        const agentsUsed = new Set((await details(SUCCEEDING)).map((d) => d.attempts.at(-1)!.agent));
        expect(agentsUsed.size).toBe(2);
      },
      RUN_MS,
    );

    it(
      'keeps the logs: what the builders echoed, for the failure too',
      async () => {
        // Independent reads run together: each gbc process costs seconds of CPU on a loaded 2-core machine.
        const [fail, top, leaf] = await Promise.all(
          (['fail', 'top', 'leaf3'] as const).map((n) => gbc('build', 'log', builds.get(n)!.uuid)),
        );
        expect(fail).toContain(`failing on purpose ${dag.marker}`);
        expect(top).toContain(`building top ${dag.marker}`);
        expect(leaf).toContain(`building leaf 3 ${dag.marker}`);
      },
      RUN_MS,
    );

    it(
      'says why a blocked build waits: the failed input',
      async () => {
        const [whyJson, whyText, after] = await Promise.all([
          gbc('build', 'why', builds.get('afterFail')!.uuid, '--json'),
          gbc('build', 'why', builds.get('afterFail')!.uuid),
          shown('afterAfterFail'),
        ]);
        const why = JSON.parse(whyJson) as WhyResponse;
        const failed = why.reasons.find((r) => r.kind === 'inputs-failed');
        expect(failed?.kind === 'inputs-failed' ? failed.inputs.map((i) => i.derivation) : []).toEqual([
          dag.drvs.get('fail'),
        ]);
        expect(whyText).toContain(dag.drvs.get('fail')!);
        expect(after.blockedByFailedDependency).toBe(true);
        expect(after.blockedBy).toEqual([builds.get('fail')!.uuid]);
      },
      RUN_MS,
    );

    it(
      'serves every output to Nix from its cache, signed with its key',
      async () => {
        const succeeded = await details(SUCCEEDING);
        const outputs = succeeded.flatMap((d) => d.outputs);
        expect(outputs).toHaveLength(SUCCEEDING.length + 2);
        expect(outputs.every((o) => o.narHash !== null)).toBe(true);
        const root = join(dir, 'third-store');
        const realised = realiseFromCache({
          storeDir: options.storeDir,
          root,
          cacheUrl: coordinator!.agentUrl,
          publicKey,
          paths: outputs.map((o) => o.path),
        });
        expect(realised.sort()).toEqual(outputs.map((o) => o.path).sort());
        const fixed = succeeded[SUCCEEDING.indexOf('fixed')]!.outputs[0]!.path;
        expect(readFileSync(join(root, 'nix/store', fixed.slice(options.storeDir.length + 1)), 'utf8')).toBe(
          `fixed ${dag.marker}\n`,
        );
        // Unsigned or wrongly signed narinfos are refused: a key that did not sign them finds nothing.
        expect(() =>
          realiseFromCache({
            storeDir: options.storeDir,
            root: join(dir, 'fourth-store'),
            cacheUrl: coordinator!.agentUrl,
            publicKey: 'other-1:DKoE5EVQKXYrnWNx2B8dKOyJ3pVqxDvJKFYzZhKGaOM=',
            paths: [fixed],
          }),
        ).toThrow();
      },
      RUN_MS,
    );

    it(
      'runs the hooks: the publish directory is a cache Nix substitutes from; the command hook recorded the events',
      async () => {
        const top = await shown('top');
        const published = join(dir, 'published');
        const record = join(dir, 'hook-record.jsonl');
        const expected = SUCCEEDING.length + FAILING.length;
        // Hooks run after the result is recorded, from the outbox: wait for every event to be processed.
        await waitFor(
          `${expected} events recorded by the command hook`,
          () =>
            existsSync(record) && readFileSync(record, 'utf8').trim().split('\n').length >= expected
              ? true
              : undefined,
          60_000,
        );
        const realised = realiseFromCache({
          storeDir: options.storeDir,
          root: join(dir, 'from-published'),
          cacheUrl: `file://${published}`,
          publicKey,
          paths: [top.outputs[0]!.path],
        });
        expect(realised).toEqual([top.outputs[0]!.path]);
        const events = readFileSync(record, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string; build: string });
        const of = (type: string) => new Set(events.filter((e) => e.type === type).map((e) => e.build));
        expect([...of('build-failure')]).toEqual(FAILING.map((n) => builds.get(n)!.uuid));
        expect([...of('build-success')].sort()).toEqual(SUCCEEDING.map((n) => builds.get(n)!.uuid).sort());
      },
      RUN_MS,
    );

    if (options.runsReadmeLibraryExample === true)
      it(
        'runs the README library example: submits with the libraries and follows the build to its end',
        async () => {
          const drv = dag.drvs.get('leaf2')!;
          expect(await runReadmeLibraryExample(coordinator!.clientUrl, [drv])).toBe(`${drv} succeeded\n`);
          const listed = JSON.parse(
            await gbc('builds', 'list', '--json', '--derivation', drv, '--tag', 'origin=qa'),
          ) as { builds: Build[] };
          expect(listed.builds.map((b) => [b.state, b.priority])).toEqual([['succeeded', 10]]);
        },
        RUN_MS,
      );
  });
}
