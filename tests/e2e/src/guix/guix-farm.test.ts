// The Guix farm end to end on real guix-daemons (issue 17), once per release
// (1.5.0 speaks protocol 0x164, 1.4.0 speaks 0x163): a coordinator on
// PostgreSQL with /gnu/store, two machines each with its own guix-daemon and
// store, the 12-derivation graph built by a store-resident busybox; inputs
// cross between machines through the coordinator by signed import; a failure
// blocks its dependent; the silence and wall-clock limits are told apart; and
// each output is served as a Guix narinfo whose signature the real `guix
// authenticate` accepts. Skipped, with the reason, only where the daemons
// cannot be had and CI is not set (guixDaemons throws under CI=true).
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient, type BuildDetail } from '@gbc/protocol';
import {
  decodeBase16,
  encodeNix32,
  formatNarHash,
  hashNar,
  storePathBasename,
  type PathInfo,
} from '@gbc/store';
import { guixDaemons } from '@gbc/store/testing';
import { startGuixAuthenticate } from './guix-authenticate.js';
import {
  GUIX_BLOCKED,
  GUIX_DAG_INPUTS,
  GUIX_DAG_SUBMISSIONS,
  GUIX_FAILING,
  GUIX_SUCCEEDING,
  type GuixDagName,
} from './guix-farm-dag.js';
import { Closers, farmLogs, startGuixFarm, type GuixFarm, type GuixMachine } from './guix-farm-setup.js';
import { submitGuixFarmDag, waitForGuixFarm } from './guix-farm-submit.js';
import { fetchGuixNarinfo, fetchOfferedNars, field } from './guix-narinfo.js';

const RUN_MS = 240_000;

/** `sha256:<nix32>` of a daemon's base16 NAR hash. */
const nixHash = (base16: string): string => `sha256:${encodeNix32(decodeBase16(base16))}`;

/**
 * The signature s-expression (Guix's advanced form, as guix publish writes
 * it) claiming another hash than it signs: one hex digit of `(hash sha256 #…#)` changed.
 */
function withOtherHash(signature: Uint8Array): Uint8Array {
  const text = Buffer.from(signature).toString('latin1');
  const at = /\(hash sha256 #/.exec(text);
  if (at === null) throw new Error(`no (hash sha256 #…#) in the signature: ${text}`);
  const digit = at.index + at[0].length;
  return new Uint8Array(
    Buffer.from(text.slice(0, digit) + (text[digit] === '0' ? '1' : '0') + text.slice(digit + 1), 'latin1'),
  );
}

for (const daemonCase of guixDaemons()) {
  describe.skipIf(daemonCase.skip !== undefined)(`the Guix farm on ${daemonCase.label}`, () => {
    const closers = new Closers();
    let farm: GuixFarm;
    let builds: ReadonlyMap<GuixDagName, BuildDetail> | undefined;
    const build = (name: GuixDagName): BuildDetail => {
      if (builds === undefined) throw new Error('the graph was not built: see the test that builds it');
      return builds.get(name)!;
    };
    const machineOf = (name: GuixDagName): GuixMachine =>
      farm.machines.find((m) => m.agentUuid === build(name).attempts.at(-1)!.agent)!;
    const infoOn = async (machine: GuixMachine, name: GuixDagName): Promise<PathInfo | null> =>
      machine.client.queryPathInfo(farm.dag.outputs.get(name)!);

    beforeAll(async () => {
      farm = await startGuixFarm(daemonCase.version, closers);
    }, RUN_MS);
    afterAll(() => closers.closeAll(), RUN_MS);
    // The processes' own words, while they still exist: the directory goes at the end.
    // Runs only after tests that ran, so after beforeAll set `farm`.
    afterEach(({ task }) => {
      if (task.result?.state === 'fail') console.error(farmLogs(farm));
    });

    it(
      "runs each daemon as a machine of its own: its own mount namespace and store, the host's /etc/guix",
      async () => {
        const own = readlinkSync('/proc/self/ns/mnt');
        const namespaces = farm.machines.map((m) => readlinkSync(`/proc/${m.daemon.pid}/ns/mnt`));
        expect(new Set([own, ...namespaces]).size).toBe(3);
        for (const m of farm.machines) {
          // What the daemon (and the `guix authenticate` it runs) reads as /etc/guix/acl: the file that authorizes the agents' key.
          expect(readFileSync(`/proc/${m.daemon.pid}/root/etc/guix/acl`, 'utf8')).toBe(
            readFileSync('/etc/guix/acl', 'utf8'),
          );
          expect((await m.client.info()).daemonVersion).toBe(daemonCase.version === '1.5.0' ? 0x164 : 0x163);
        }
      },
      RUN_MS,
    );

    it(
      'builds the graph on both machines: successes, a failure that blocks its dependent, and the two time limits',
      async () => {
        const uuids = await submitGuixFarmDag(farm);
        builds = await waitForGuixFarm(
          new CoordinatorClient({ baseUrl: farm.coordinator.clientUrl }),
          uuids,
          RUN_MS - 30_000,
        );
        const state = (n: GuixDagName) =>
          `${n}: ${build(n).state}${build(n).blockedByFailedDependency ? ' blocked' : ''}`;
        expect(GUIX_SUCCEEDING.map(state)).toEqual(GUIX_SUCCEEDING.map((n) => `${n}: succeeded`));
        expect([state(GUIX_FAILING), state(GUIX_BLOCKED)]).toEqual([
          `${GUIX_FAILING}: failed`,
          `${GUIX_BLOCKED}: queued blocked`,
        ]);
        expect(build(GUIX_FAILING).attempts.map((a) => a.result)).toEqual(['build-failure']);
        expect(build(GUIX_BLOCKED).blockedBy).toEqual([build(GUIX_FAILING).uuid]);
        expect(build(GUIX_BLOCKED).attempts).toEqual([]);
        // One attempt each: no set-up (import) failure was retried on the way.
        expect(
          GUIX_SUCCEEDING.map(
            (n) =>
              `${n}: ${build(n)
                .attempts.map((a) => a.result)
                .join(',')}`,
          ),
        ).toEqual(GUIX_SUCCEEDING.map((n) => `${n}: success`));
        // Each build ran on the machine it was pinned to.
        const pinned = [...GUIX_SUCCEEDING, GUIX_FAILING].flatMap((n) => {
          const pin = GUIX_DAG_SUBMISSIONS[n];
          return 'machine' in pin ? [{ n, machine: pin.machine }] : [];
        });
        expect(pinned.map(({ n }) => `${n} on ${machineOf(n).tag}`)).toEqual(
          pinned.map(({ n, machine }) => `${n} on ${machine}`),
        );
        const [failLog, leafLog] = await Promise.all([
          farm.gbc('build', 'log', build(GUIX_FAILING).uuid),
          farm.gbc('build', 'log', build('leaf0').uuid),
        ]);
        expect(failLog).toContain(`failing on purpose ${farm.dag.marker}`);
        expect(leafLog).toContain(`building leaf0 ${farm.dag.marker}`);
      },
      RUN_MS,
    );

    it('tells the silence limit from the wall-clock limit', () => {
      const ended = (n: GuixDagName) =>
        build(n).attempts.map((a) => `${n}: ${build(n).state} ${a.result} ${a.failureReason?.split(':')[0]}`);
      expect(ended('silent')).toEqual(['silent: failed timeout max-silent-time']);
      expect(ended('endless')).toEqual(['endless: failed timeout timeout']);
    });

    it(
      "carries inputs through the coordinator into the other machine's daemon by signed import",
      async () => {
        const edges = GUIX_SUCCEEDING.flatMap((consumer) =>
          GUIX_DAG_INPUTS[consumer].map((input) => ({ consumer, input })),
        );
        const crossing = edges.filter((e) => machineOf(e.consumer) !== machineOf(e.input));
        // Every edge crosses (the pins alternate), and there are such edges in both directions.
        expect(crossing).toEqual(edges);
        expect(new Set(crossing.map((e) => machineOf(e.consumer).tag))).toEqual(new Set(['one', 'two']));
        for (const { consumer, input } of crossing) {
          const [built, imported] = await Promise.all([
            infoOn(machineOf(input), input),
            infoOn(machineOf(consumer), input),
          ]);
          const output = build(input).outputs[0]!;
          expect(built).not.toBeNull();
          // No deriver: guix-daemon registers one on import only when that .drv is valid there, and it is added after the inputs.
          expect(imported, `${input} imported on machine ${machineOf(consumer).tag}`).toMatchObject({
            narHash: built!.narHash,
            narSize: built!.narSize,
            references: built!.references,
          });
          expect(built!.deriver).toBe(farm.dag.drvs.get(input));
          expect(nixHash(imported!.narHash)).toBe(output.narHash);
        }
        // The builder itself came the same way to both machines: written only on the workstation, submitted as a source.
        for (const m of farm.machines) {
          const info = await m.client.queryPathInfo(farm.dag.busybox);
          expect(info === null ? null : nixHash(info.narHash)).toBe(farm.dag.busyboxNarHash);
        }
        // Outputs built on one machine and needed nowhere else stay there; the top's output holds what every leaf wrote.
        const [one, two] = farm.machines;
        const top = storePathBasename(farm.dag.outputs.get('top')!);
        expect([
          existsSync(join(one.daemon.storeOnDisk, top)),
          existsSync(join(two.daemon.storeOnDisk, top)),
        ]).toEqual([true, false]);
        const topText = readFileSync(join(one.daemon.storeOnDisk, top), 'utf8');
        for (const leaf of ['leaf0', 'leaf1', 'leaf2', 'leaf3'])
          expect(topText).toContain(`${leaf} ${farm.dag.marker}\n`);
      },
      RUN_MS,
    );

    it(
      'serves every output as a Guix narinfo whose signature the real `guix authenticate` accepts',
      async () => {
        const trusting = startGuixAuthenticate(farm.guixDir, farm.coordinatorGuixConfig);
        // The machine's ACL authorizes the agents' key only, not the coordinator's.
        const other = startGuixAuthenticate(farm.guixDir, '/etc/guix');
        try {
          for (const name of GUIX_SUCCEEDING) {
            const path = farm.dag.outputs.get(name)!;
            const own = await infoOn(machineOf(name), name);
            const info = await fetchGuixNarinfo(farm.coordinator.agentUrl, path);
            expect(info.signedFields).toEqual(expect.arrayContaining(['StorePath', 'NarHash', 'References']));
            expect([field(info, 'StorePath'), field(info, 'NarHash'), field(info, 'NarSize')]).toEqual([
              path,
              nixHash(own!.narHash),
              String(own!.narSize),
            ]);
            expect(
              (field(info, 'References') ?? '')
                .split(' ')
                .filter((r) => r !== '')
                .sort(),
            ).toEqual(own!.references.map(storePathBasename).sort());
            for (const { compression, nar } of await fetchOfferedNars(farm.coordinator.agentUrl, info)) {
              expect(`${compression}: ${formatNarHash((await hashNar([nar])).narHash)}`).toBe(
                `${compression}: ${field(info, 'NarHash')}`,
              );
            }
            expect(await trusting.verify(info.signature)).toEqual({ code: 0, text: info.signedSha256 });
            const refused = await other.verify(info.signature);
            expect(refused.code).toBe(500);
            expect(refused.text).toMatch(/^unauthorized public key/);
            const forged = await trusting.verify(withOtherHash(info.signature));
            expect(forged.code).toBe(500);
            expect(forged.text).toMatch(/^invalid signature/);
          }
        } finally {
          expect(await trusting.close()).toBe(0);
          expect(await other.close()).toBe(0);
        }
      },
      RUN_MS,
    );
  });
}
