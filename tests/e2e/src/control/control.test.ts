// Issue 8 with real processes: `gbc coordinator` on SQLite requiring client
// tokens, one `gbc agent` with its own nix-daemon store, derivations from the
// real nix-daemon. A running build canceled with `gbc build cancel` is aborted
// on the agent; a silent build is stopped by max-silent-time; refused tokens
// change nothing; `gbc retention run` removes exactly what its budget says and
// leaves the cache consistent.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient } from '@gbc/protocol';
import { formatGuixSecretKey, generateGuixSecretKey, parseNarInfo, verifyGuixNarInfo } from '@gbc/store';
import type { BuildDetail, BuildState, CreatedClientToken, RetentionReport } from '@gbc/protocol';
import { fetchCacheFile, fetchNarinfo, filesInArea } from '../support/cache-files.js';
import { gbcOk, runGbc, startGbcAgent, startGbcCoordinator } from '../support/gbc-cli.js';
import type { GbcCoordinator, GbcProcess } from '../support/gbc-cli.js';
import { startNixDaemon } from '../support/nix-daemon-process.js';
import type { NixDaemonProcess } from '../support/nix-daemon-process.js';
import { waitFor } from '../support/wait-for.js';
import { instantiateControlDerivations, processesMatching } from './control-derivations.js';
import type { ControlDerivations } from './control-derivations.js';

const RUN_MS = 240_000;
const STEP_MS = 120_000;
let dir: string;
let data: string;
let database: string;
let coordinator: GbcCoordinator | undefined;
let agent: GbcProcess | undefined;
let daemon: NixDaemonProcess | undefined;
let drvs: ControlDerivations;
let admin: CreatedClientToken;
const gbc = (...args: string[]) =>
  gbcOk([...args, '--coordinator', coordinator!.clientUrl, '--token', admin.secret], dir);
const api = () => new CoordinatorClient({ baseUrl: coordinator!.clientUrl, token: admin.secret });
const submit = async (drv: string, ...flags: string[]) =>
  (JSON.parse(await gbc('submit-build', drv, '--json', ...flags)) as { builds: Array<{ uuid: string }> })
    .builds[0]!.uuid;
const untilState = (uuid: string, states: readonly BuildState[], ms = STEP_MS) =>
  waitFor(
    `build ${uuid} ${states.join('/')}`,
    async () => {
      const b = await api().getBuild(uuid);
      return states.includes(b.state) ? b : undefined;
    },
    ms,
  );
const coordinatorArgs = (extra: readonly string[]) => [
  '--database',
  database,
  '--data-dir',
  data,
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
  ...extra,
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbc-control-'));
  data = join(dir, 'data');
  database = `sqlite://${join(dir, 'gbc.db')}`;
  drvs = instantiateControlDerivations(dir, randomUUID());
  // The bootstrap: the first (read-write) token is made on the database before the coordinator runs.
  admin = JSON.parse(
    await gbcOk(['client-token', 'new', 'admin', '--json', '--database', database], dir),
  ) as CreatedClientToken;
  coordinator = await startGbcCoordinator(dir, coordinatorArgs([]));
  daemon = await startNixDaemon(join(dir, 'machine'), '/nix/store');
  agent = await startGbcAgent(
    { dir, coordinator: coordinator, daemonSocket: daemon.socket, gbc },
    'control-agent',
    ['--max-parallel-builds', '2'],
  );
}, RUN_MS);

afterAll(async () => {
  const agentCode = await agent?.stop();
  const coordinatorCode = await coordinator?.stop();
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(agentCode ?? 0).toBe(0);
  expect(coordinatorCode).toBe(0);
}, RUN_MS);

describe('control over running work (issue 8)', () => {
  it(
    'running builds canceled with gbc build cancel and by tag are aborted on the agent (their builders killed) and show canceled',
    async () => {
      const [uuid, tagged] = await Promise.all([
        submit(drvs.long),
        submit(drvs.tagged, '--tag', `run=${drvs.marker}`),
      ]);
      await Promise.all([untilState(uuid, ['started']), untilState(tagged, ['started'])]);
      // The builders run (their command lines hold the run's marker) and have printed a few ticks.
      const running = (tick: string) => processesMatching(`${tick} .* ${drvs.marker}`).length > 0;
      await waitFor(
        'both long builders to run',
        () => (running('tick') && running('tick2') ? true : undefined),
        STEP_MS,
      );
      const [byId, byTag] = await Promise.all([
        gbc('build', 'cancel', uuid, '--json'),
        gbc('builds', 'cancel', '--tag', `run=${drvs.marker}`, '--json'),
      ]);
      expect(JSON.parse(byId)).toEqual({ canceled: [uuid] });
      expect(JSON.parse(byTag)).toEqual({ canceled: [tagged] });
      // Left alone, the builders run 120 s: gone within half of that, they were aborted, however
      // busy the machine (how fast a cancel reaches the agent is for benchmarks, not this test).
      await waitFor(
        'the long builders to be gone',
        () => (!running('tick') && !running('tick2') ? true : undefined),
        60_000,
        50,
      );
      for (const id of [uuid, tagged]) {
        const shown = JSON.parse(await gbc('build', 'show', id, '--json')) as BuildDetail;
        expect(shown.state).toBe('canceled');
        expect(shown.outputs.every((o) => o.narHash === null)).toBe(true);
      }
    },
    RUN_MS,
  );

  it(
    'a build that prints nothing is stopped by --max-silent-time and recorded as a timeout, its log kept',
    async () => {
      const uuid = await submit(drvs.silent, '--max-silent-time', '2');
      const ended = await untilState(uuid, ['failed', 'succeeded', 'canceled'], 60_000);
      expect(ended.state).toBe('failed');
      const shown = JSON.parse(await gbc('build', 'show', uuid, '--json')) as BuildDetail;
      expect(shown.maxSilentTimeSeconds).toBe(2);
      const attempt = shown.attempts.at(-1)!;
      expect(attempt.result).toBe('timeout');
      expect(attempt.hasLog).toBe(true);
      expect(await gbc('build', 'log', uuid)).toContain(`started-silent ${drvs.marker}`);
      expect(processesMatching(`started-silent ${drvs.marker}`)).toEqual([]);
    },
    RUN_MS,
  );

  it(
    'no token, a wrong token and a read-only token on a write route are refused (401/403) and change nothing',
    async () => {
      const uuid = await submit(drvs.idle, '--defer-until', '2999-01-01T00:00:00Z', '--priority', '1');
      const reader = JSON.parse(
        await gbcOk(
          ['client-token', 'new', 'dashboard', '--read-only', '--json', '--database', database],
          dir,
        ),
      ) as CreatedClientToken;
      const update = (...token: string[]) =>
        runGbc(
          ['build', 'update-priority', uuid, '7', '--coordinator', coordinator!.clientUrl, ...token],
          dir,
        );
      const [none, wrong, readOnly] = await Promise.all([
        update(),
        update('--token', `${admin.secret}x`),
        update('--token', reader.secret),
      ]);
      expect([none.code, wrong.code, readOnly.code]).toEqual([1, 1, 1]);
      expect(none.stderr).toMatch(/^gbc: unauthorized: /);
      expect(wrong.stderr).toMatch(/^gbc: unauthorized: /);
      expect(readOnly.stderr).toMatch(/^gbc: forbidden: /);
      // Raw HTTP says the same with the status codes.
      const route = `${coordinator!.clientUrl}/build/${uuid}/update-priority`;
      const statuses = await Promise.all(
        [undefined, 'wrong', reader.secret].map(
          async (t) =>
            (
              await fetch(route, {
                method: 'POST',
                headers: {
                  'content-type': 'application/json',
                  ...(t === undefined ? {} : { authorization: `Bearer ${t}` }),
                },
                body: '{"priority":7}',
              })
            ).status,
        ),
      );
      expect(statuses).toEqual([401, 401, 403]);
      expect((await api().getBuild(uuid)).priority).toBe(1);
      // The read-only token reads; the read-write one writes.
      const seen = JSON.parse(
        await gbcOk(
          [
            'build',
            'show',
            uuid,
            '--json',
            '--coordinator',
            coordinator!.clientUrl,
            '--token',
            reader.secret,
          ],
          dir,
        ),
      ) as BuildDetail;
      expect(seen.priority).toBe(1);
      expect(
        (JSON.parse(await gbc('build', 'update-priority', uuid, '7', '--json')) as BuildDetail).priority,
      ).toBe(7);
      await gbc('build', 'cancel', uuid);
    },
    RUN_MS,
  );

  it(
    'gbc retention run with a size budget removes exactly the oldest output outside the kept closure; the cache stays consistent (and Guix-signed); old logs go by the background task',
    async () => {
      const old = await submit(drvs.old);
      await untilState(old, ['succeeded']);
      const [lib, app] = await Promise.all([submit(drvs.lib), submit(drvs.app)]);
      await untilState(app, ['succeeded']);
      await untilState(lib, ['succeeded']);
      const path = async (uuid: string) => (await api().getBuild(uuid)).outputs[0]!.path;
      const [oldPath, libPath, appPath] = await Promise.all([path(old), path(lib), path(app)]);
      expect((await api().getBuild(app)).outputs[0]!.references).toContain(libPath);
      // Without a policy nothing goes; keptBytes is what the NARs take.
      const all = JSON.parse(await gbc('retention', 'run', '--dry-run', '--json')) as RetentionReport;
      expect(all.removedNars).toBe(0);
      const narsBefore = filesInArea(data, 'nar');
      expect(narsBefore).toHaveLength(3);

      // One byte under: the youngest closure (app and lib, which app refers to) fits, old does not.
      // The restarted coordinator also signs Guix-flavour narinfos with a Guix key.
      const guixKey = generateGuixSecretKey();
      writeFileSync(join(dir, 'guix-signing.sec'), formatGuixSecretKey(guixKey), { mode: 0o600 });
      expect(await agent!.stop()).toBe(0);
      agent = undefined;
      await coordinator!.stop();
      coordinator = await startGbcCoordinator(
        dir,
        coordinatorArgs([
          '--retention-nar-budget',
          String(all.keptBytes - 1),
          '--guix-signing-key',
          'guix-signing.sec',
        ]),
      );
      const dry = JSON.parse(await gbc('retention', 'run', '--dry-run', '--json')) as RetentionReport;
      expect(dry).toMatchObject({ dryRun: true, removedNars: 1, removedLogs: 0 });
      expect(filesInArea(data, 'nar')).toEqual(narsBefore);
      const run = JSON.parse(await gbc('retention', 'run', '--json')) as RetentionReport;
      expect(run).toMatchObject({
        dryRun: false,
        removedNars: 1,
        removedLogs: 0,
        freedBytes: dry.freedBytes,
        keptBytes: all.keptBytes - dry.freedBytes,
      });
      expect(filesInArea(data, 'nar')).toHaveLength(2);

      expect((await fetchNarinfo(coordinator.agentUrl, oldPath)).status).toBe(404);
      for (const kept of [libPath, appPath]) {
        const narinfo = await fetchNarinfo(coordinator.agentUrl, kept);
        expect(narinfo.status).toBe(200);
        const nar = await fetchCacheFile(coordinator.agentUrl, narinfo.fields!.get('URL')!);
        expect(nar.length).toBe(Number(narinfo.fields!.get('FileSize')));
        for (const ref of (narinfo.fields!.get('References') ?? '').split(' ').filter((r) => r !== '')) {
          expect((await fetchNarinfo(coordinator.agentUrl, `/nix/store/${ref}`)).status).toBe(200);
        }
        const guix = await fetch(
          `${coordinator.agentUrl}/${kept.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo?flavour=guix`,
        );
        expect(guix.status).toBe(200);
        expect(
          verifyGuixNarInfo(parseNarInfo(await guix.text(), { storeDir: '/nix/store' }), [guixKey.publicKey]),
        ).toMatchObject({ valid: true });
      }
      // A second run finds nothing more to remove.
      expect(JSON.parse(await gbc('retention', 'run', '--json'))).toMatchObject({
        removedNars: 0,
        freedBytes: 0,
      });

      // Logs older than 0 days go, by the background task (--retention-interval); the NARs stay.
      expect(filesInArea(data, 'log').length).toBeGreaterThan(0);
      await coordinator.stop();
      coordinator = await startGbcCoordinator(
        dir,
        coordinatorArgs(['--retention-log-days', '0', '--retention-interval', '1']),
      );
      await waitFor(
        'the background retention to drop every log',
        () => (filesInArea(data, 'log').length === 0 ? true : undefined),
        30_000,
      );
      expect((await api().getBuild(lib)).attempts.every((a) => !a.hasLog)).toBe(true);
      expect(filesInArea(data, 'nar')).toHaveLength(2);
      expect((await fetchNarinfo(coordinator.agentUrl, appPath)).status).toBe(200);
    },
    RUN_MS,
  );
});
