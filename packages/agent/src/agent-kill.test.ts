// An agent process SIGKILLed in the middle of a build: its lease expires on
// the coordinator and another agent (with a store of its own) builds it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../test-support/agents.js';
import { startTestCoordinator } from '../test-support/coordinator.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { instantiate, mkPrelude, submit } from '../test-support/derivations.js';
import { startPrivateDaemon } from '../test-support/second-daemon.js';
import type { PrivateDaemon } from '../test-support/second-daemon.js';
import { Teardown } from '../test-support/teardown.js';

const repoRoot = resolve(import.meta.dirname, '../../..');
let coord: TestCoordinator;
let d1: PrivateDaemon;
let d2: PrivateDaemon;
let child: ChildProcess | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'gbc-agent-kill-'));

const teardown = new Teardown();

beforeAll(async () => {
  [coord, d1, d2] = await Promise.all([
    teardown.add(startTestCoordinator(2), (c) => c.close()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
    teardown.add(startPrivateDaemon(), (d) => d.stop()),
  ]);
}, 60_000);

afterAll(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await teardown.run();
  rmSync(scratch, { recursive: true, force: true });
});

describe('an agent killed during a build', () => {
  it('loses the build when its lease expires, and the other agent builds it', async () => {
    const killed = await coord.addAgent('doomed');
    const survivor = await coord.addAgent('survivor');
    const nonce = randomBytes(4).toString('hex');
    const { gated } = instantiate(
      `let ${mkPrelude(nonce)} in { gated = mk { name = "killed-midway"; args = [ "-c" "echo started; while [ ! -e /gbc-gate/open ]; do sleep 0.05; done; echo survived-${nonce} > $out" ]; }; }`,
      ['gated'],
    );
    const build = await submit(coord.client, gated!);
    const options = {
      coordinatorUrl: coord.agentUrl,
      uuid: killed.uuid,
      password: killed.password,
      daemonSocket: d1.socket,
      stateDir: join(scratch, 'state'),
      pollIntervalMs: 100,
      maxLoad1: 10_000,
    };
    const out = openSync(join(scratch, 'child.log'), 'a');
    child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(repoRoot, 'packages/agent/test-support/agent-child.ts'),
        JSON.stringify(options),
      ],
      {
        cwd: repoRoot,
        stdio: ['ignore', out, out],
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((r) =>
      child!.once('exit', (_code, signal) => r(signal)),
    );
    const started = await coord.waitFor(build, (b) => b.state === 'started', 'started by the child agent');
    expect(started.attempts[0]?.agent).toBe(killed.uuid);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    d2.openGate();
    const other = runAgent({
      coordinatorUrl: coord.agentUrl,
      uuid: survivor.uuid,
      password: survivor.password,
      daemonSocket: d2.socket,
    });
    const done = await coord.waitFor(
      build,
      (b) => b.state === 'succeeded' || b.state === 'failed',
      'built by the survivor',
    );
    await other.stop();
    expect(done.state).toBe('succeeded');
    expect(done.attempts.map((a) => a.agent)).toEqual([killed.uuid, survivor.uuid]);
    expect(done.attempts[0]?.result).not.toBe('success');
    expect(done.attempts[1]?.result).toBe('success');
    expect(readFileSync(join(d2.root, done.outputs[0]!.path), 'utf8')).toBe(`survived-${nonce}\n`);
  });
});
