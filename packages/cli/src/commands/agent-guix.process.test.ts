// `gbc agent --guix-signing-key FILE` in front of a real guix-daemon
// (1.5.0, private store), with `gbc coordinator` and `gbc submit-build`: the
// flag (a path relative to the working directory) reaches the agent, whose
// key the daemon does not authorize; the attempt names the key's .pub to
// authorize, and the agent takes no further build.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient } from '@gbc/protocol';
import type { BuildDetail } from '@gbc/protocol';
import { createBuildDaemon, formatGuixSecretKey, generateGuixSecretKey } from '@gbc/store';
import { addBusybox, addShellDerivation, guixDaemons, startGuixDaemon } from '@gbc/store/testing';
import type { GuixDaemonProcess } from '@gbc/store/testing';
import { runGbc, startCoordinator, startGbc, waitFor } from '../testing/gbc-process.js';
import type { CoordinatorProcess } from '../testing/gbc-process.js';

const guix = guixDaemons().find((c) => c.version === '1.5.0')!;

describe.skipIf(guix.skip !== undefined)(`gbc agent on ${guix.label}`, () => {
  let dir: string;
  let coordinator: CoordinatorProcess;
  /** Where the derivation is made; the agent builds on `empty`, which lacks busybox. */
  let maker: GuixDaemonProcess;
  let empty: GuixDaemonProcess;
  // Each process as it starts: one failing to start leaves the others to stop.
  const started: { stop(): Promise<unknown> }[] = [];
  const opened = async <T extends { stop(): Promise<unknown> }>(start: Promise<T>): Promise<T> => {
    const running = await start;
    started.push(running);
    return running;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-cli-guix-agent-'));
    [coordinator, maker, empty] = await Promise.all([
      opened(
        startCoordinator(dir, [
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
        ]),
      ),
      opened(startGuixDaemon({ version: guix.version })),
      opened(startGuixDaemon({ version: guix.version })),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(started.map((running) => running.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs imports with the key named by --guix-signing-key and names its .pub when the daemon refuses it', async () => {
    const client = createBuildDaemon({ socket: maker.socket, storeDir: maker.storeDir });
    let drvPath: string;
    try {
      const busybox = await addBusybox(client);
      drvPath = (
        await addShellDerivation(client, {
          name: `gbc-cli-key-${Date.now()}`,
          busybox,
          script: 'echo > $out',
        })
      ).drvPath;
    } finally {
      await client.close();
    }
    const submitted = await runGbc(
      [
        'submit-build',
        drvPath,
        '--real-store-dir',
        maker.storeOnDisk,
        '--coordinator',
        coordinator.clientUrl,
        '--json',
      ],
      { cwd: dir },
    );
    expect(submitted.code).toBe(0);
    const build = (JSON.parse(submitted.stdout) as { builds: Array<{ uuid: string }> }).builds[0]!.uuid;
    const created = JSON.parse(
      (
        await runGbc(['agent', 'new', 'keyed', '--json', '--coordinator', coordinator.clientUrl], {
          cwd: dir,
        })
      ).stdout,
    ) as { agent: { uuid: string }; password: string };
    writeFileSync(join(dir, 'keyed.password'), created.password, { mode: 0o600 });
    writeFileSync(join(dir, 'stranger.sec'), formatGuixSecretKey(generateGuixSecretKey()), { mode: 0o600 });
    const agent = startGbc(dir, 'agent', [
      'agent',
      '--coordinator-url',
      coordinator.agentUrl,
      '--uuid',
      created.agent.uuid,
      '--password-file',
      'keyed.password',
      '--daemon-socket',
      empty.socket,
      '--store-dir',
      '/gnu/store',
      '--state-dir',
      'agent-state',
      '--max-1min-load-average',
      '1000',
      '--guix-signing-key',
      'stranger.sec',
    ]);
    const coordinatorClient = new CoordinatorClient({ baseUrl: coordinator.clientUrl });
    let ended: BuildDetail;
    try {
      ended = await waitFor(async () => {
        const b = await coordinatorClient.getBuild(build);
        return b.attempts[0]?.endedAt != null ? b : undefined;
      }, 60_000);
      await waitFor(() => (agent.log().includes('imports refused') ? true : undefined));
    } finally {
      expect(await agent.stop()).toBe(0);
    }
    expect(ended.attempts.map((a) => a.result)).toEqual(['infrastructure-failure']);
    expect(ended.attempts[0]?.failureReason).toContain('unauthorized public key');
    expect(ended.attempts[0]?.failureReason).toContain(
      `guix archive --authorize < ${join(dir, 'stranger.pub')}`,
    );
    expect((await coordinatorClient.getBuild(build)).attempts).toHaveLength(1);
  }, 120_000);
});
