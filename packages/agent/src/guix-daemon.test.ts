// The agent on real guix-daemons (1.5.0 and 1.4.0, each machine a daemon in
// a private store) with a real coordinator: inputs reach the second machine
// by signed import, a key the daemon does not authorize ends the attempt
// with a clear message and the agent stops taking builds, the two time
// limits are told apart, daemon messages stay out of the builder's log.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildDaemon, formatGuixSecretKey, generateGuixSecretKey, storePathBasename } from '@gbc/store';
import type { BuildDaemon } from '@gbc/store';
import {
  addBusybox,
  addShellDerivation,
  guixDaemons,
  machineGuixKey,
  startGuixDaemon,
} from '@gbc/store/testing';
import type { GuixDaemonProcess, TestDerivation } from '@gbc/store/testing';
import type { AgentOptions } from './index.js';
import { runAgent } from '../test-support/agents.js';
import type { RunningAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { startCuttingProxy } from '../test-support/cutting-proxy.js';
import { submitGuix } from '../test-support/guix-derivations.js';
import { Teardown } from '../test-support/teardown.js';

const GNU = '/gnu/store';

/** One line of an agent's log, its fields flattened. */
type Entry = Readonly<Record<string, unknown>> & { readonly message: string };

/** Polls `cond` (bounded). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 2400) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const c of guixDaemons()) {
  describe.skipIf(c.skip !== undefined)(`an agent on ${c.label}`, () => {
    const nonce = randomBytes(4).toString('hex');
    const scratch = mkdtempSync(join(tmpdir(), 'gbc-agent-guix-'));
    let coord: TestCoordinator;
    /** Machine one (derivations are made there, and it has busybox) and machine two (an empty store). */
    let one: GuixDaemonProcess;
    let two: GuixDaemonProcess;
    let client1: BuildDaemon;
    let busybox: string;
    const teardown = new Teardown();

    beforeAll(async () => {
      [coord, one, two] = await Promise.all([
        teardown.add(startTestCoordinator(300, GNU), (t) => t.close()),
        teardown.add(startGuixDaemon({ version: c.version }), (d) => d.stop()),
        teardown.add(startGuixDaemon({ version: c.version }), (d) => d.stop()),
      ]);
      client1 = createBuildDaemon({ socket: one.socket, storeDir: GNU });
      teardown.defer(() => client1.close());
      busybox = await addBusybox(client1, machineGuixKey());
    }, 60_000);

    afterAll(async () => {
      await teardown.run();
      rmSync(scratch, { recursive: true, force: true });
    });

    /** Runs an agent on `machine` as a new agent of the coordinator; its log lines land in `entries`. */
    const agentOn = async (
      machine: GuixDaemonProcess,
      name: string,
      extra: Partial<AgentOptions> = {},
    ): Promise<RunningAgent & { entries: Entry[] }> => {
      const creds = await coord.addAgent(`${name}-${nonce}`);
      const entries: Entry[] = [];
      const agent = runAgent({
        coordinatorUrl: coord.agentUrl,
        uuid: creds.uuid,
        password: creds.password,
        daemonSocket: machine.socket,
        storeDir: GNU,
        ...extra,
        log: (message, fields) => entries.push({ ...fields, message }),
      });
      return Object.assign(agent, { entries });
    };
    const shell = (
      name: string,
      script: string,
      inputs: readonly TestDerivation[] = [],
    ): Promise<TestDerivation> =>
      addShellDerivation(client1, { name: `${name}-${nonce}`, busybox, script, inputs, env: { nonce } });
    const ended = (b: { state: string }): boolean => b.state === 'succeeded' || b.state === 'failed';
    const logOf = async (build: string): Promise<string> =>
      new Response(await coord.client.buildLog(build)).text();

    it('without a key: says so at start, and a build that imports fails naming the missing key', async () => {
      const unsigned = await shell('unsigned', 'echo ok > $out');
      const build = await submitGuix(coord.client, one.storeOnDisk, unsigned.drvPath);
      const agent = await agentOn(two, 'keyless', { guixSigningKeyFile: join(scratch, 'absent.sec') });
      const failed = await coord.waitFor(build, (b) => b.attempts[0]?.endedAt != null, 'the attempt ended');
      await agent.stop();
      const warning = agent.entries.find((e) => e.message.startsWith('no Guix signing key'));
      expect(String(warning?.problem)).toMatch(/cannot read .*absent\.sec: ENOENT/);
      expect(String(warning?.fix)).toContain(`guix archive --authorize < ${join(scratch, 'absent.pub')}`);
      // Said at start: before the build was taken.
      expect(agent.entries.findIndex((e) => e === warning)).toBeLessThan(
        agent.entries.findIndex((e) => e.build === build),
      );
      expect(failed.attempts.map((a) => a.result)).toEqual(['infrastructure-failure']);
      expect(failed.attempts[0]?.failureReason).toMatch(
        /guix-daemon refused the import of \/gnu\/store\/[0-9a-z]{32}-busybox: .*lacks a signature; the agent signs nothing: cannot read .*absent\.sec/,
      );
      await coord.client.cancelBuild(build);
    });

    it('with a key the daemon does not authorize: one clear failed attempt, then no more builds taken', async () => {
      const stranger = join(scratch, 'stranger.sec');
      writeFileSync(stranger, formatGuixSecretKey(generateGuixSecretKey()));
      const needy = await shell('needy', 'echo needs-busybox; echo ok > $out');
      const build = await submitGuix(coord.client, one.storeOnDisk, needy.drvPath);
      const creds = await coord.addAgent(`stranger-${nonce}`);
      // Through a proxy that cuts nothing: it records the agent's requests in order.
      const proxy = await startCuttingProxy(coord.agentUrl, Number.POSITIVE_INFINITY);
      const entries: string[] = [];
      const agent = runAgent({
        coordinatorUrl: proxy.url,
        uuid: creds.uuid,
        password: creds.password,
        daemonSocket: two.socket,
        storeDir: GNU,
        guixSigningKeyFile: stranger,
        statusIntervalMs: 100,
        log: (m) => entries.push(m),
      });
      try {
        const failed = await coord.waitFor(
          build,
          (b) => b.attempts[0]?.endedAt != null,
          'the first attempt ended',
        );
        const attempt = failed.attempts[0]!;
        expect(attempt.result).toBe('infrastructure-failure');
        expect(attempt.failureReason).toMatch(
          /guix-daemon refused the import of \/gnu\/store\/[0-9a-z]{32}-busybox: .*unauthorized public key/,
        );
        expect(attempt.failureReason).toContain(
          `guix archive --authorize < ${join(scratch, 'stranger.pub')}`,
        );
        expect(entries).toContain(
          'imports refused: fetching no more builds until the agent is restarted with an authorized key',
        );
        // Not retried: after its result the agent reports its status, and fetches nothing.
        const resultAt = proxy.requests.findIndex((r) => r.startsWith(`POST /build/${build}/report-result`));
        expect(resultAt).toBeGreaterThanOrEqual(0);
        const after = (): string[] => proxy.requests.slice(resultAt + 1);
        await until(
          () => after().filter((r) => r.startsWith('PUT /agent/') && r.includes('/status')).length >= 3,
          'three status reports after the failure',
        );
        expect(after().filter((r) => r.includes('/fetch-builds'))).toEqual([]);
        const now = await coord.client.getBuild(build);
        expect(now.state).toBe('queued');
        expect(now.attempts).toHaveLength(1);
        const client2 = createBuildDaemon({ socket: two.socket, storeDir: GNU });
        try {
          expect(await client2.isValidPath(busybox)).toBe(false);
        } finally {
          await client2.close();
        }
      } finally {
        await agent.stop();
        await proxy.close();
      }
      await coord.client.cancelBuild(build);
    });

    it('builds on the second machine with inputs it imports, signed, from the coordinator', async () => {
      const dep = await shell('dep', `echo dep-line-${nonce}; echo dep-${nonce} > $out`);
      const top = await shell(
        'top',
        `echo top-line-${nonce}; cat ${dep.outputs.get('out')} > $out; echo top >> $out`,
        [dep],
      );
      const depBuild = await submitGuix(coord.client, one.storeOnDisk, dep.drvPath);
      const first = await agentOn(one, 'first');
      const depDone = await coord.waitFor(depBuild, ended, 'dep built');
      await first.stop();
      expect(depDone.state).toBe('succeeded');
      const topBuild = await submitGuix(coord.client, one.storeOnDisk, top.drvPath);
      const second = await agentOn(two, 'second');
      const topDone = await coord.waitFor(topBuild, ended, 'top built');
      await second.stop();
      expect(topDone.state).toBe('succeeded');
      expect(topDone.attempts.map((a) => [a.result, a.failureReason])).toEqual([['success', null]]);
      const out = topDone.outputs[0]!.path;
      expect(readFileSync(join(two.storeOnDisk, storePathBasename(out)), 'utf8')).toBe(`dep-${nonce}\ntop\n`);
      // The inputs reached machine two by import: it never built dep, and busybox came from the coordinator.
      const client2 = createBuildDaemon({ socket: two.socket, storeDir: GNU });
      try {
        expect(await client2.isValidPath(dep.outputs.get('out')!)).toBe(true);
        expect(await client2.isValidPath(busybox)).toBe(true);
      } finally {
        await client2.close();
      }
      expect(second.entries.some((e) => e.message === 'built' && e.status === 'built')).toBe(true);
      // The builder's lines are the log; the daemon's ("building path(s) …") went to the agent's log.
      const log = await logOf(topBuild);
      expect(log).toContain(`top-line-${nonce}`);
      expect(log).not.toMatch(/building path|@ build/);
      expect(
        second.entries.some(
          (e) => e.message === 'daemon message' && /^building path\(s\) /.test(String(e.text)),
        ),
      ).toBe(true);
    });

    it('reports an output already in the store as built without building it', async () => {
      const made = await shell('again', `echo again-${nonce} > $out`);
      const agent = await agentOn(one, 'again');
      const firstBuild = await submitGuix(coord.client, one.storeOnDisk, made.drvPath);
      expect((await coord.waitFor(firstBuild, ended, 'built once')).state).toBe('succeeded');
      const secondBuild = await submitGuix(coord.client, one.storeOnDisk, made.drvPath);
      expect((await coord.waitFor(secondBuild, ended, 'built again')).state).toBe('succeeded');
      await agent.stop();
      const statuses = agent.entries.filter((e) => e.message === 'built').map((e) => e.status);
      expect(statuses).toEqual(['built', 'already-valid']);
      const times = agent.entries.filter((e) => e.message === 'built')[0]!;
      expect(Number(times.stopTime)).toBeGreaterThanOrEqual(Number(times.startTime));
    });

    it("reports a failing builder as a build failure: its lines in the log, the daemon's reason in the message", async () => {
      const failing = await shell('failing', `echo about-to-fail-${nonce}; exit 3`);
      const build = await submitGuix(coord.client, one.storeOnDisk, failing.drvPath);
      const agent = await agentOn(one, 'failing');
      const done = await coord.waitFor(build, ended, 'failed');
      await agent.stop();
      expect(done.state).toBe('failed');
      expect(done.attempts.map((a) => a.result)).toEqual(['build-failure']);
      expect(done.attempts[0]?.failureReason).toMatch(/builder for .*failing-.*failed with exit code 3/);
      const log = await logOf(build);
      expect(log).toBe(`about-to-fail-${nonce}\n`);
    });

    it('tells a max-silent-time kill from a wall-clock timeout', async () => {
      const quiet = await shell('quiet', 'echo going-quiet; while :; do busybox sleep 1; done');
      const chatty = await shell('chatty', 'while :; do echo tick; busybox sleep 0.2; done');
      const quietBuild = await submitGuix(coord.client, one.storeOnDisk, quiet.drvPath, {
        maxSilentTimeSeconds: 1,
      });
      const chattyBuild = await submitGuix(coord.client, one.storeOnDisk, chatty.drvPath, {
        timeoutSeconds: 2,
      });
      const agent = await agentOn(one, 'limits');
      const [q, t] = [
        await coord.waitFor(quietBuild, ended, 'quiet ended'),
        await coord.waitFor(chattyBuild, ended, 'chatty ended'),
      ];
      await agent.stop();
      expect(q.attempts.map((a) => [a.result, a.failureReason])).toEqual([
        ['timeout', expect.stringMatching(/^max-silent-time: /)],
      ]);
      // The daemon's own words are in the failure's message (not in the log).
      expect(q.attempts[0]?.failureReason).toMatch(/timed out after 1 seconds of silence/);
      expect(t.state).toBe('failed');
      expect(t.attempts[0]?.result).toBe('timeout');
      expect(t.attempts[0]?.failureReason).toMatch(/^timeout: /);
      // The builders' lines are their logs; the daemon's verdict is not among them.
      const quietLog = await logOf(quietBuild);
      expect(quietLog).toContain('going-quiet');
      expect(quietLog).not.toMatch(/timed out/);
      const chattyLog = await logOf(chattyBuild);
      expect(chattyLog).toContain('tick');
      expect(chattyLog).not.toMatch(/timed out/);
      const said = (build: string): string[] =>
        agent.entries
          .filter((e) => e.message === 'daemon message' && e.build === build)
          .map((e) => String(e.text));
      expect(said(quietBuild).some((l) => /timed out after .* of silence/.test(l))).toBe(true);
      expect(said(chattyBuild).some((l) => /timed out/.test(l))).toBe(true);
      expect(said(chattyBuild).some((l) => /silence/.test(l))).toBe(false);
    });
  });
}
