// The agent against a real coordinator (SQLite) and two private nix-daemons
// with stores of their own: inputs travel only through the coordinator's cache.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildDaemon } from '@gbc/store';
import type { AgentOptions, UploadCompression } from './index.js';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let d1: PrivateDaemon;
let d2: PrivateDaemon;
let a1: { uuid: string; password: string };
let a2: { uuid: string; password: string };

const teardown = new Teardown();

beforeAll(async () => {
  [coord, d1, d2] = await Promise.all([
    teardown.add(startTestCoordinator(), (c) => c.close()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
  ]);
  a1 = await coord.addAgent('agent-one');
  a2 = await coord.addAgent('agent-two');
}, 60_000);

afterAll(() => teardown.run());

const agentOn = (
  d: PrivateDaemon,
  creds: { uuid: string; password: string },
  extra: Partial<AgentOptions> = {},
) =>
  runAgent({
    coordinatorUrl: coord.agentUrl,
    uuid: creds.uuid,
    password: creds.password,
    daemonSocket: d.socket,
    ...extra,
  });

/** Polls `cond` (bounded). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 1200) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The build's log as the coordinator serves it now ('' when it has none yet). */
async function liveLog(build: string): Promise<string> {
  try {
    return await new Response(await coord.client.buildLog(build)).text();
  } catch {
    return '';
  }
}

/** The contents of a store file in a private daemon's store. */
const readOut = (d: PrivateDaemon, path: string): string => readFileSync(join(d.root, path), 'utf8');

describe('agent with a real coordinator and two private daemons', () => {
  it('builds a chain of three derivations across two agents, inputs through the coordinator cache', async () => {
    const nonce = randomBytes(4).toString('hex');
    const drvs = instantiate(
      `let ${mkPrelude(nonce)}
  src = builtins.toFile "chain-src-${nonce}" "source ${nonce}";
in rec {
  a = mk { name = "chain-a"; args = [ "-c" "echo a-\${src} > $out; cat \${src} >> $out" ]; };
  b = mk { name = "chain-b"; args = [ "-c" "cat \${a} > $out; echo b >> $out" ]; };
  c = mk { name = "chain-c"; outputs = [ "out" "doc" ]; args = [ "-c" "cat \${b} > $out; echo c >> $out; echo doc > $doc" ]; };
}`,
      ['a', 'b', 'c'],
    );
    // Every NAR compressed (even tiny ones): zstd on agent one, lzip on agent two.
    const steps: [string, typeof d1, typeof a1, UploadCompression][] = [
      ['a', d1, a1, 'zstd'],
      ['b', d2, a2, 'lzip'],
      ['c', d1, a1, 'zstd'],
    ];
    const builds: Record<string, string> = {};
    for (const [attr, daemon, creds, compression] of steps) {
      builds[attr] = await submit(coord.client, drvs[attr]!);
      const agent = agentOn(daemon, creds, { uploadCompression: compression, compressAboveBytes: 0 });
      const done = await coord.waitFor(
        builds[attr],
        (b) => b.state === 'succeeded' || b.state === 'failed',
        `${attr} finished`,
      );
      await agent.stop();
      expect(done.state).toBe('succeeded');
      expect(done.attempts.at(-1)?.agent).toBe(creds.uuid);
    }
    const c = await coord.client.getBuild(builds.c!);
    const cOut = c.outputs.find((o) => o.name === 'out')?.path;
    expect(c.outputs.map((o) => o.name).sort()).toEqual(['doc', 'out']);
    expect(cOut).toBeDefined();
    // c ran on daemon 1, which never built b: b's output came from the coordinator's cache.
    expect(readOut(d1, cOut!)).toBe(
      `a-${readOut(d1, (await coord.client.getBuild(builds.a!)).outputs[0]!.path)
        .split('\n')[0]!
        .slice(2)}\nsource ${nonce}b\nc\n`,
    );
    const bOut = (await coord.client.getBuild(builds.b!)).outputs[0]!.path;
    const daemon1 = createBuildDaemon({ socket: d1.socket });
    try {
      const info = await daemon1.queryPathInfo(bOut);
      expect(info?.ultimate).toBe(false); // imported, not built here
      expect(await daemon1.isValidPath(cOut!)).toBe(true);
    } finally {
      await daemon1.close();
    }
    // And the coordinator's cache serves c's output as a Nix binary cache would.
    const narinfoOf = async (p: string): Promise<string> =>
      (await fetch(`${coord.agentUrl}/${p.slice(11, 43)}.narinfo`)).text();
    expect(await narinfoOf(cOut!)).toContain(`StorePath: ${cOut}`);
    expect(await narinfoOf(cOut!)).toContain('Compression: zstd');
    expect(await narinfoOf(bOut)).toContain('Compression: lzip');
  });

  it('reports a failing build with its log stored and the build failed', async () => {
    const nonce = randomBytes(4).toString('hex');
    const { bad } = instantiate(
      `let ${mkPrelude(nonce)} in { bad = mk { name = "failing"; args = [ "-c" "echo first-line-${nonce}; echo about-to-fail-${nonce} >&2; exit 3" ]; }; }`,
      ['bad'],
    );
    const build = await submit(coord.client, bad!);
    const agent = agentOn(d2, a2);
    const done = await coord.waitFor(build, (b) => b.state === 'failed' || b.state === 'succeeded', 'failed');
    await agent.stop();
    expect(done.state).toBe('failed');
    expect(done.attempts[0]?.result).toBe('build-failure');
    expect(done.attempts[0]?.hasLog).toBe(true);
    const log = await new Response(await coord.client.buildLog(build)).text();
    expect(log).toContain(`first-line-${nonce}`);
    expect(log).toContain(`about-to-fail-${nonce}`);
  });

  it('reports a missing input as a setup failure listing it', async () => {
    const nonce = randomBytes(4).toString('hex');
    const { lonely } = instantiate(
      `let ${mkPrelude(nonce)}
  src = builtins.toFile "never-uploaded-${nonce}" "nobody has this";
in { lonely = mk { name = "lonely"; args = [ "-c" "cat \${src} > $out" ]; }; }`,
      ['lonely'],
    );
    const build = await submit(coord.client, lonely!, { skipSources: true });
    const agent = agentOn(d1, a1);
    const done = await coord.waitFor(
      build,
      (b) => b.attempts.some((a) => a.result === 'setup-failure'),
      'a setup failure',
    );
    await agent.stop();
    const attempt = done.attempts.find((a) => a.result === 'setup-failure')!;
    expect(attempt.missingInputs).toHaveLength(1);
    expect(attempt.missingInputs[0]).toMatch(new RegExp(`^/nix/store/[0-9a-z]{32}-never-uploaded-${nonce}$`));
  });

  it('finishes and delivers a build while the coordinator restarts', async () => {
    const nonce = randomBytes(4).toString('hex');
    const { gated } = instantiate(
      `let ${mkPrelude(nonce)} in { gated = mk { name = "gated"; args = [ "-c" "echo waiting; while [ ! -e /gbc-gate/open ]; do sleep 0.05; done; echo done-${nonce} > $out" ]; }; }`,
      ['gated'],
    );
    const build = await submit(coord.client, gated!);
    const agent = agentOn(d2, a2);
    await coord.waitFor(build, (b) => b.state === 'started', 'started');
    await coord.stop();
    d2.openGate();
    // The build ends while the coordinator is down; the agent retries until it is back.
    await until(
      () => agent.messages.includes('built') && agent.messages.includes('coordinator call failed, retrying'),
      'the build done and the agent retrying',
    );
    expect(agent.messages).toContain('built');
    expect(agent.messages).not.toContain('result delivered');
    await coord.start();
    const done = await coord.waitFor(
      build,
      (b) => b.state === 'succeeded' || b.state === 'failed',
      'finished after the restart',
    );
    await agent.stop();
    expect(done.state).toBe('succeeded');
    expect(readOut(d2, done.outputs[0]!.path)).toBe(`done-${nonce}\n`);
    expect(done.outputs[0]!.narHash).toMatch(/^sha256:/);
  });

  it('keeps an undelivered result in its state file across an agent restart', async () => {
    const nonce = randomBytes(4).toString('hex');
    const { late } = instantiate(
      `let ${mkPrelude(nonce)} in { late = mk { name = "late-failure"; args = [ "-c" "while [ ! -e /gbc-gate/open ]; do sleep 0.05; done; echo late-${nonce}; exit 1" ]; }; }`,
      ['late'],
    );
    const build = await submit(coord.client, late!);
    const stateDir = mkdtempSync(join(tmpdir(), 'gbc-agent-keep-'));
    try {
      const first = runAgent({
        coordinatorUrl: coord.agentUrl,
        uuid: a1.uuid,
        password: a1.password,
        daemonSocket: d1.socket,
        stateDir,
      });
      await coord.waitFor(build, (b) => b.state === 'started', 'started');
      await coord.stop();
      d1.openGate();
      await until(
        () =>
          first.messages.includes('built') && first.messages.includes('coordinator call failed, retrying'),
        'the result waiting for the coordinator',
      );
      await first.stop(false);
      const kept = JSON.parse(readFileSync(join(stateDir, 'agent-state.json'), 'utf8')) as {
        pendingResults: { build: string; result: { result: string } }[];
      };
      expect(kept.pendingResults.map((p) => [p.build, p.result.result])).toEqual([[build, 'build-failure']]);
      await coord.start();
      const second = runAgent({
        coordinatorUrl: coord.agentUrl,
        uuid: a1.uuid,
        password: a1.password,
        daemonSocket: d1.socket,
        stateDir,
      });
      const done = await coord.waitFor(
        build,
        (b) => b.state === 'failed' || b.state === 'succeeded',
        'the kept result delivered',
      );
      await until(() => second.messages.includes('result delivered'), 'delivery noted');
      await second.stop();
      expect(done.state).toBe('failed');
      expect(done.attempts).toHaveLength(1);
      expect(JSON.parse(readFileSync(join(stateDir, 'agent-state.json'), 'utf8'))).toMatchObject({
        pendingResults: [],
      });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('aborts a canceled build and reports it canceled', async () => {
    const nonce = randomBytes(4).toString('hex');
    const { slow } = instantiate(
      `let ${mkPrelude(nonce)} in { slow = mk { name = "to-cancel"; args = [ "-c" "echo live-line-${nonce}; while [ ! -e /gbc-gate/${nonce} ]; do sleep 0.05; done; echo > $out" ]; }; }`,
      ['slow'],
    );
    const build = await submit(coord.client, slow!);
    const agent = runAgent({
      coordinatorUrl: coord.agentUrl,
      uuid: a2.uuid,
      password: a2.password,
      daemonSocket: d2.socket,
      statusIntervalMs: 100,
    });
    await coord.waitFor(build, (b) => b.state === 'started', 'started');
    // The log streams while the build still runs.
    for (let i = 0; !(await liveLog(build)).includes(`live-line-${nonce}`); i++) {
      if (i > 400) throw new Error('the live log never showed the first line');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await coord.client.getBuild(build)).state).toBe('started');
    await coord.client.cancelBuild(build);
    await until(() => agent.agent.held.size === 0, 'the agent dropping the build');
    await agent.stop();
    const done = await coord.client.getBuild(build);
    expect(done.state).toBe('canceled');
    expect(done.outputs[0]?.narHash ?? null).toBeNull();
  });

  it('on a forceful stop aborts its build and releases it to the queue', async () => {
    const nonce = randomBytes(4).toString('hex');
    const { held } = instantiate(
      `let ${mkPrelude(nonce)} in { held = mk { name = "released"; args = [ "-c" "while [ ! -e /gbc-gate/${nonce} ]; do sleep 0.05; done; echo released-${nonce} > $out" ]; }; }`,
      ['held'],
    );
    const build = await submit(coord.client, held!);
    const first = runAgent({
      coordinatorUrl: coord.agentUrl,
      uuid: a1.uuid,
      password: a1.password,
      daemonSocket: d1.socket,
      gracePeriodMs: 60_000,
    });
    await coord.waitFor(build, (b) => b.state === 'started', 'started');
    first.agent.stop(true); // SIGTERM: fetch nothing more, keep building
    expect(first.agent.held.size).toBe(1);
    await first.stop(false); // a second signal: abort and release
    const released = await coord.waitFor(
      build,
      (b) => b.attempts[0]?.endedAt !== null,
      'the first attempt ended',
    );
    expect(released.attempts[0]?.result).toBe('infrastructure-failure');
    d2.openGate(nonce);
    const second = runAgent({
      coordinatorUrl: coord.agentUrl,
      uuid: a2.uuid,
      password: a2.password,
      daemonSocket: d2.socket,
    });
    const done = await coord.waitFor(
      build,
      (b) => b.state === 'succeeded' || b.state === 'failed',
      'built by the other agent',
    );
    await second.stop();
    expect(done.state).toBe('succeeded');
    expect(done.attempts.map((a) => a.agent)).toEqual([a1.uuid, a2.uuid]);
  });

  it('authenticates with a dynamic-auth token file and keeps the session in its state directory', async () => {
    const { token } = await coord.client.createDynamicAuthToken();
    const stateDir = mkdtempSync(join(tmpdir(), 'gbc-agent-token-'));
    try {
      writeFileSync(join(stateDir, 'token'), `${token}\n`);
      const nonce = randomBytes(4).toString('hex');
      const { one } = instantiate(
        `let ${mkPrelude(nonce)} in { one = mk { name = "by-token"; args = [ "-c" "echo token > $out" ]; }; }`,
        ['one'],
      );
      const build = await submit(coord.client, one!);
      const options = {
        coordinatorUrl: coord.agentUrl,
        name: `token-agent-${nonce}`,
        tokenFile: join(stateDir, 'token'),
        daemonSocket: d1.socket,
        stateDir,
      };
      const first = runAgent(options);
      const done = await coord.waitFor(
        build,
        (b) => b.state === 'succeeded' || b.state === 'failed',
        'built',
      );
      await first.stop();
      expect(done.state).toBe('succeeded');
      const state = JSON.parse(readFileSync(join(stateDir, 'agent-state.json'), 'utf8')) as {
        session: { agent: string; coordinator: string };
      };
      expect(state.session.agent).toBe(done.attempts[0]?.agent);
      expect(state.session.coordinator).toBe(coord.agentUrl);
      // A restart reuses the stored credentials: the same agent, no new one.
      const before = (await coord.client.listAgents()).agents.length;
      const second = runAgent(options);
      const build2 = await submit(
        coord.client,
        instantiate(
          `let ${mkPrelude(nonce)} in { two = mk { name = "by-token-2"; args = [ "-c" "echo token2 > $out" ]; }; }`,
          ['two'],
        ).two!,
      );
      const done2 = await coord.waitFor(
        build2,
        (b) => b.state === 'succeeded' || b.state === 'failed',
        'built again',
      );
      await second.stop();
      expect(done2.attempts[0]?.agent).toBe(state.session.agent);
      expect((await coord.client.listAgents()).agents.length).toBe(before);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  /**
   * Builds a derivation whose builder runs `script` until its gate opens (it
   * never does here) under the given limits, and returns its attempt once ended.
   */
  async function runUntilLimited(
    name: string,
    script: string,
    limits: Parameters<typeof submit>[2],
    agentOptions: Partial<AgentOptions> = {},
  ) {
    const nonce = randomBytes(4).toString('hex');
    const { drv } = instantiate(
      `let ${mkPrelude(nonce)} in { drv = mk { name = "${name}"; args = [ "-c" "${script.replaceAll('GATE', `/gbc-gate/${nonce}`)}" ]; }; }`,
      ['drv'],
    );
    const build = await submit(coord.client, drv!, limits);
    const agent = agentOn(d1, a1, agentOptions);
    const done = await coord.waitFor(
      build,
      (b) => b.state === 'failed' || b.state === 'succeeded',
      'timed out',
    );
    await agent.stop();
    expect(done.state).toBe('failed');
    expect(done.attempts[0]?.result).toBe('timeout');
    return { build: done, attempt: done.attempts[0]! };
  }
  const silent = 'echo going-quiet; while [ ! -e GATE ]; do sleep 0.05; done; echo > $out';

  it("applies the build's max silent time and reports a timeout", async () => {
    const { attempt } = await runUntilLimited('too-quiet', silent, { maxSilentTimeSeconds: 1 });
    // The limit is the daemon's word (its message), not a guess from the build's name.
    expect(attempt.failureReason).toMatch(/^max-silent-time: .*of silence/);
  });

  it("applies the build's wall-clock timeout to a build that keeps printing, and reports a timeout", async () => {
    const { attempt } = await runUntilLimited(
      'too-long',
      'while [ ! -e GATE ]; do echo still-going; sleep 0.1; done; echo > $out',
      { timeoutSeconds: 1 },
    );
    expect(attempt.failureReason).toMatch(/^timeout: /);
    expect(attempt.failureReason).not.toMatch(/silen/i);
    expect(attempt.hasLog).toBe(true);
  });

  it("caps the time limits it is sent: a build submitted without one is stopped at the agent's own", async () => {
    const { build, attempt } = await runUntilLimited(
      'capped-quiet',
      silent,
      {},
      { maxBuildSilentSeconds: 1 },
    );
    expect(build.maxSilentTimeSeconds).toBeNull();
    expect(attempt.failureReason).toMatch(/^max-silent-time: /);
  });

  it('on a graceful stop fetches nothing more but finishes and delivers the build it holds', async () => {
    const nonce = randomBytes(4).toString('hex');
    const drvs = instantiate(
      `let ${mkPrelude(nonce)} in {
  held = mk { name = "finished-on-stop"; args = [ "-c" "while [ ! -e /gbc-gate/${nonce} ]; do sleep 0.05; done; echo kept > $out" ]; };
  next = mk { name = "not-fetched"; args = [ "-c" "echo > $out" ]; };
}`,
      ['held', 'next'],
    );
    const build = await submit(coord.client, drvs.held!);
    const agent = agentOn(d2, a2, { maxAllocatedBuilds: 2, maxParallelBuilds: 2 }); // room for the second one, were it fetching
    await coord.waitFor(build, (b) => b.state === 'started', 'started');
    agent.agent.stop(true);
    const later = await submit(coord.client, drvs.next!);
    d2.openGate(nonce);
    await agent.stop(); // the graceful stop asked above ends run() once the build is delivered; this removes its state

    const done = await coord.client.getBuild(build);
    expect(done.state).toBe('succeeded');
    expect((await coord.client.getBuild(later)).state).toBe('queued');
    await coord.client.cancelBuild(later);
  });
});
