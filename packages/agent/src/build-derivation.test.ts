// How the agent builds on a Nix daemon: BuildDerivation when the daemon trusts
// it (no build-hook process per build), BuildPaths on the .drv when it does
// not, learnt from the first refusal and said once in the agent's log.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

let coord: TestCoordinator;
let trusting: PrivateDaemon;
let distrustful: PrivateDaemon;
const teardown = new Teardown();

beforeAll(async () => {
  [coord, trusting, distrustful] = await Promise.all([
    teardown.add(startTestCoordinator(), (c) => c.close()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
    // The tests run as root; a daemon whose only trusted user is nobody does not trust them.
    teardown.add(startPrivateDaemon('/nix/store', ['--option', 'trusted-users', 'nobody']), (d) => d.stop()),
  ]);
}, 60_000);

afterAll(() => teardown.run());

const REFUSED = /does not trust this agent with BuildDerivation/;

/** How many closure requests the coordinator has answered (from its metrics). */
async function closureCalls(): Promise<number> {
  const text = await (await fetch(`${coord.agentUrl}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^gbc_http_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm))
    if (m[1]!.includes('route="/build/:uuid/closure"')) n += Number(m[2]);
  return n;
}

/** Runs an agent on `daemon` until every attribute of `drvs` (in order) is built; returns its log messages and the operations it built with. */
async function buildAll(
  daemon: PrivateDaemon,
  drvs: Record<string, string>,
  attrs: readonly string[],
  name: string,
): Promise<{ messages: string[]; operations: unknown[] }> {
  const creds = await coord.addAgent(name);
  const messages: string[] = [];
  const operations: unknown[] = [];
  const agent = runAgent({
    coordinatorUrl: coord.agentUrl,
    uuid: creds.uuid,
    password: creds.password,
    daemonSocket: daemon.socket,
    log: (m, f) => {
      messages.push(m);
      if (m === 'built') operations.push(f?.operation);
    },
  });
  try {
    for (const attr of attrs) {
      const build = await submit(coord.client, drvs[attr]!);
      const done = await coord.waitFor(
        build,
        (b) => b.state === 'succeeded' || b.state === 'failed',
        `${attr} to finish`,
      );
      expect(done.state).toBe('succeeded');
    }
  } finally {
    await agent.stop();
  }
  return { messages, operations };
}

describe('building on a Nix daemon', () => {
  it('uses BuildDerivation on a daemon that trusts the agent, with input sources and input derivations', async () => {
    const nonce = randomBytes(4).toString('hex');
    const drvs = instantiate(
      `let ${mkPrelude(nonce)}
  src = builtins.toFile "ops-src-${nonce}" "source ${nonce}";
in rec {
  a = mk { name = "ops-a"; args = [ "-c" "cat \${src} > $out" ]; };
  b = mk { name = "ops-b"; args = [ "-c" "cat \${a} \${src} > $out; echo b >> $out" ]; };
}`,
      ['a', 'b'],
    );
    const closureCalls0 = await closureCalls();
    const { messages, operations } = await buildAll(trusting, drvs, ['a', 'b'], `trusted-${nonce}`);
    expect(operations).toEqual(['BuildDerivation', 'BuildDerivation']);
    expect(messages.filter((m) => REFUSED.test(m))).toEqual([]);
    // The first build asked for its closure; once BuildDerivation was known to work, the next came with the allocation.
    expect((await closureCalls()) - closureCalls0).toBe(1);
  });

  it('falls back to BuildPaths on a daemon that does not trust it, saying so once', async () => {
    // An untrusted client may add .drv files and build them, but not import unsigned NARs: no inputs here.
    const nonce = randomBytes(4).toString('hex');
    const drvs = instantiate(
      `let ${mkPrelude(nonce)} in {
  a = mk { name = "ops-untrusted-a"; args = [ "-c" "echo a > $out" ]; };
  b = mk { name = "ops-untrusted-b"; args = [ "-c" "echo b > $out" ]; };
}`,
      ['a', 'b'],
    );
    const { messages, operations } = await buildAll(distrustful, drvs, ['a', 'b'], `untrusted-${nonce}`);
    expect(operations).toEqual(['BuildPaths', 'BuildPaths']);
    expect(messages.filter((m) => REFUSED.test(m)).length).toBe(1);
  });

  it('refuses a derivation text that does not match its path (BuildDerivation adds no .drv for the daemon to check)', async () => {
    const nonce = randomBytes(4).toString('hex');
    const drvs = instantiate(
      `let ${mkPrelude(nonce)} in { a = mk { name = "tampered-${nonce}"; args = [ "-c" "echo a > $out" ]; }; }`,
      ['a'],
    );
    const build = await submit(coord.client, drvs.a!);
    // The coordinator's record altered behind its back (a corrupt or hostile coordinator): the builder's command changed.
    const db = coord.current().context.datastore.db;
    const row = await db
      .selectFrom('derivations')
      .select('text')
      .where('path', '=', drvs.a!)
      .executeTakeFirstOrThrow();
    const altered = Buffer.from(
      Buffer.from(row.text).toString('latin1').replace('echo a > $out', 'echo b > $out'),
      'latin1',
    );
    expect(altered.equals(Buffer.from(row.text))).toBe(false);
    await db.updateTable('derivations').set({ text: altered }).where('path', '=', drvs.a!).execute();
    const creds = await coord.addAgent(`tampered-${nonce}`);
    const agent = runAgent({
      coordinatorUrl: coord.agentUrl,
      uuid: creds.uuid,
      password: creds.password,
      daemonSocket: trusting.socket,
    });
    try {
      const seen = await coord.waitFor(
        build,
        (b) => b.attempts.some((a) => a.result !== null),
        'a finished attempt',
      );
      const first = seen.attempts.find((a) => a.result !== null)!;
      expect(first.result).toBe('infrastructure-failure');
      expect(first.failureReason).toMatch(
        /text of \/nix\/store\/\w{32}-tampered-\w+\.drv does not match its path/,
      );
    } finally {
      await coord.client.cancelBuild(build, { ignoreIfFinished: true });
      await agent.stop(false);
    }
  });

  it('reports an input the daemon refuses to import as a failure of the agent, not a missing input', async () => {
    // Unsigned NARs from the coordinator's cache: a daemon that does not trust the agent refuses them.
    const nonce = randomBytes(4).toString('hex');
    const drvs = instantiate(
      `let ${mkPrelude(nonce)}
  src = builtins.toFile "refused-src-${nonce}" "source ${nonce}";
in { a = mk { name = "refused-a"; args = [ "-c" "cat \${src} > $out" ]; }; }`,
      ['a'],
    );
    const creds = await coord.addAgent(`refused-${nonce}`);
    const agent = runAgent({
      coordinatorUrl: coord.agentUrl,
      uuid: creds.uuid,
      password: creds.password,
      daemonSocket: distrustful.socket,
    });
    let build: string | undefined;
    try {
      build = await submit(coord.client, drvs.a!);
      const seen = await coord.waitFor(
        build,
        (b) => b.attempts.some((a) => a.result !== null),
        'a finished attempt',
      );
      const first = seen.attempts.find((a) => a.result !== null)!;
      expect(first.result).toBe('infrastructure-failure');
      expect(first.failureReason).toMatch(/refused to import \/nix\/store\/\w{32}-refused-src-/);
      expect(first.missingInputs).toEqual([]);
    } finally {
      // Requeued after the failure, it would be handed out again: cancel it.
      if (build !== undefined) await coord.client.cancelBuild(build, { ignoreIfFinished: true });
      await agent.stop(false);
    }
  });
});
