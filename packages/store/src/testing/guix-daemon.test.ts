// The test support itself: which daemons can run (skip or, in CI, fail),
// private-store daemons that leave nothing behind, busybox and derivation
// DAGs built on real guix-daemons (a failed dependency included).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBuildDaemon } from '../daemon/native-daemon.js';
import { addBusybox, addShellDerivation, guixDaemons, machineGuixKey, startGuixDaemon } from './index.js';

describe('guixDaemons', () => {
  const empty = mkdtempSync(join(tmpdir(), 'gbc-no-guix-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('says why a daemon cannot run, and fails instead in CI', () => {
    expect(guixDaemons({}).map((c) => [c.version, c.skip, c.label])).toEqual([
      [
        '1.5.0',
        'no guix-daemon: $GBC_GUIX_DIR unset',
        'guix-daemon 1.5.0 (skipped: no guix-daemon: $GBC_GUIX_DIR unset)',
      ],
      [
        '1.4.0',
        'no guix-daemon: $GBC_GUIX_DIR unset',
        'guix-daemon 1.4.0 (skipped: no guix-daemon: $GBC_GUIX_DIR unset)',
      ],
    ]);
    expect(guixDaemons({ GBC_GUIX_DIR: empty })[0]!.skip).toBe(
      `no guix-daemon 1.5.0: ${empty}/daemon-1.5.0/guix-daemon is missing`,
    );
    expect(() => guixDaemons({ CI: 'true' })).toThrow(
      /CI=true, but the real guix-daemons are required: no guix-daemon: \$GBC_GUIX_DIR unset/,
    );
    expect(() => guixDaemons({ CI: 'true', GBC_GUIX_DIR: empty })).toThrow(
      /daemon-1\.5\.0\/guix-daemon is missing/,
    );
  });
});

for (const c of guixDaemons()) {
  describe.skipIf(c.skip !== undefined)(`startGuixDaemon on ${c.label}`, () => {
    it('runs a private store: a derivation DAG builds there, nothing in /gnu/store, nothing left after stop()', async () => {
      const guix = await startGuixDaemon({ version: c.version });
      const daemon = createBuildDaemon({ socket: guix.socket, storeDir: guix.storeDir });
      let stopped = false;
      try {
        const busybox = await addBusybox(daemon, machineGuixKey());
        expect(await addBusybox(daemon)).toBe(busybox);
        expect(existsSync(join(guix.storeOnDisk, basename(busybox), 'bin', 'sh'))).toBe(true);
        const leaf = await addShellDerivation(daemon, {
          name: 'gbc-leaf',
          busybox,
          script: 'echo leaf > $out',
        });
        const two = await addShellDerivation(daemon, {
          name: 'gbc-two',
          busybox,
          outputs: ['out', 'doc'],
          inputs: [leaf],
          script: `cat ${leaf.outputs.get('out')} > $out; echo doc > $doc`,
        });
        const top = await addShellDerivation(daemon, {
          name: 'gbc-top',
          busybox,
          inputs: [two],
          script: `cat ${two.outputs.get('out')} ${two.outputs.get('doc')} > $out`,
        });
        const broken = await addShellDerivation(daemon, { name: 'gbc-broken', busybox, script: 'exit 1' });
        const above = await addShellDerivation(daemon, {
          name: 'gbc-above',
          busybox,
          inputs: [broken],
          script: 'echo > $out',
        });
        expect(await daemon.build(above.drvPath)).toMatchObject({
          success: false,
          status: 'dependency-failed',
          startTime: null,
        });
        expect(await daemon.build(top.drvPath)).toMatchObject({ success: true, status: 'built' });
        const out = top.outputs.get('out')!;
        expect(readFileSync(join(guix.storeOnDisk, basename(out)), 'utf8')).toBe('leaf\ndoc\n');
        expect(await daemon.queryPathInfo(out)).toMatchObject({ deriver: top.drvPath });
        expect(existsSync(out)).toBe(false);
        await daemon.close();
        await guix.stop();
        stopped = true;
        expect(existsSync(guix.dir)).toBe(false);
        expect(() => process.kill(-guix.pid, 0)).toThrow();
      } finally {
        if (!stopped) {
          await daemon.close();
          await guix.stop();
        }
      }
    });

    it("runs daemons side by side: one ending its build never kills the other's builder", async () => {
      const [a, b] = await Promise.all([
        startGuixDaemon({ version: c.version }),
        startGuixDaemon({ version: c.version }),
      ]);
      const clientA = createBuildDaemon({ socket: a.socket, storeDir: a.storeDir });
      const clientB = createBuildDaemon({ socket: b.socket, storeDir: b.storeDir });
      try {
        const [busyA, busyB] = await Promise.all([addBusybox(clientA), addBusybox(clientB)]);
        const quick = await addShellDerivation(clientA, {
          name: 'gbc-quick',
          busybox: busyA,
          script: 'echo quick > $out',
        });
        const slow = await addShellDerivation(clientB, {
          name: 'gbc-slow',
          busybox: busyB,
          script: 'echo started; sleep 2; echo slow > $out',
        });
        let quickBuild: Promise<unknown> | undefined;
        const slowBuild = clientB.build(slow.drvPath, {
          onLog: (line) => {
            if (line.text === 'started') quickBuild = clientA.build(quick.drvPath);
          },
        });
        expect(await slowBuild).toMatchObject({ success: true, status: 'built' });
        expect(await quickBuild).toMatchObject({ success: true, status: 'built' });
      } finally {
        await Promise.all([clientA.close(), clientB.close()]);
        await Promise.all([a.stop(), b.stop()]);
      }
    });

    it('reports a daemon that does not start, with its log, and cleans up', async () => {
      await expect(startGuixDaemon({ version: c.version, extraArgs: ['--no-such-flag'] })).rejects.toThrow(
        /did not create its socket; its log: .*no-such-flag/s,
      );
    });
  });
}
