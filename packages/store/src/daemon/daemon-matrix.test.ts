// The same walk through the client against every real daemon here: nix-daemon
// 2.8 (protocol 1.34), guix-daemon 1.4.0 (0x163) and 1.5.0 (0x164), each
// guix-daemon in a private store. Paths, imports, builds and their logs,
// failures, both time limits, already-valid outputs, abort.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHash, makeHash } from '../hash/index.js';
import { dumpNar, hashNar } from '../nar/index.js';
import type { GuixSecretKey } from '../signature/guix/index.js';
import { makeSourcePath, makeTextPath } from '../store-path/index.js';
import {
  addBusybox,
  addShellDerivation,
  guixDaemons,
  machineGuixKey,
  startGuixDaemon,
  type GuixDaemonProcess,
} from '../testing/index.js';
import type { LogLine } from './build-daemon.js';
import { DaemonError } from './errors.js';
import { createBuildDaemon, type NativeBuildDaemon } from './native-daemon.js';
import { instantiate, nix, removeDir, tempDir } from './test-helpers.js';

const tag = randomUUID();
const dir = tempDir('gbc-daemon-matrix-');
afterAll(() => removeDir(dir));

/** One real daemon and how tests make derivations for it. */
interface Subject {
  readonly daemon: NativeBuildDaemon;
  /** Where its store's files are readable from here. */
  readonly storeOnDisk: string;
  /** A derivation running `script` under sh, in the store; returns the .drv path and its `out`. */
  derivation(name: string, script: string): Promise<{ drvPath: string; out: string }>;
  /** Fields added to a NAR import so the daemon accepts it. */
  readonly importExtras: { guixSigningKey?: GuixSecretKey };
  close(): Promise<void>;
}

function nixSubject(): Promise<Subject> {
  const daemon = createBuildDaemon({ storeDir: '/nix/store', maxConnections: 2 });
  return Promise.resolve({
    daemon,
    storeOnDisk: '/nix/store',
    async derivation(name, script) {
      const drvPath = instantiate(dir, name, script, tag);
      const references = nix('nix-store', ['-q', '--references', drvPath])
        .toString('utf8')
        .split('\n')
        .filter(Boolean);
      expect(
        await daemon.addTextToStore(basename(drvPath).slice(33), readFileSync(drvPath), references),
      ).toBe(drvPath);
      return { drvPath, out: nix('nix-store', ['-q', '--outputs', drvPath]).toString('utf8').trim() };
    },
    importExtras: {},
    close: () => daemon.close(),
  });
}

async function guixSubject(version: '1.5.0' | '1.4.0'): Promise<Subject & { process: GuixDaemonProcess }> {
  const process = await startGuixDaemon({ version });
  const daemon = createBuildDaemon({ socket: process.socket, storeDir: process.storeDir, maxConnections: 2 });
  const key = machineGuixKey();
  const busybox = await addBusybox(daemon, key);
  return {
    process,
    daemon,
    storeOnDisk: process.storeOnDisk,
    async derivation(name, script) {
      const made = await addShellDerivation(daemon, { name, busybox, script, env: { tag } });
      return { drvPath: made.drvPath, out: made.outputs.get('out')! };
    },
    importExtras: { guixSigningKey: key },
    async close() {
      await daemon.close();
      await process.stop();
    },
  };
}

const cases = [
  { label: 'nix-daemon 2.8', skip: undefined, version: 0x122, open: nixSubject },
  ...guixDaemons().map((c) => ({
    label: c.label,
    skip: c.skip,
    version: c.version === '1.5.0' ? 0x164 : 0x163,
    open: () => guixSubject(c.version),
  })),
];

/** Whether a process whose command line holds `marker` runs (builders are visible from here). */
function running(marker: string): boolean {
  return readdirSync('/proc').some((pid) => {
    try {
      return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(marker);
    } catch {
      return false;
    }
  });
}

describe.each(cases)('$label', ({ skip, version, open }) => {
  let s: Subject;
  beforeAll(async () => {
    if (skip !== undefined) return;
    s = await open();
    // Registered once open (a failed or skipped start has nothing to close); runs after the tests.
    return () => s.close();
  }, 60_000);

  it.skipIf(skip !== undefined)('shakes hands in its dialect and takes options', async () => {
    const info = await s.daemon.info();
    expect(info).toMatchObject({
      dialect: version >= 0x163 ? 'guix' : 'nix',
      daemonVersion: version,
      protocolVersion: version,
    });
    await s.daemon.setOptions({ verbosity: 1, maxBuildJobs: 2, buildCores: 1 });
  });

  it.skipIf(skip !== undefined)('adds text at its content address, twice the same', async () => {
    const text = `gbc text ${tag}\n`;
    const path = makeTextPath(s.daemon.storeDir, 'gbc-note', text);
    expect(await s.daemon.addTextToStore('gbc-note', text, [])).toBe(path);
    expect(await s.daemon.addTextToStore('gbc-note', text, [])).toBe(path);
    expect(await s.daemon.isValidPath(path)).toBe(true);
    expect(readFileSync(join(s.storeOnDisk, basename(path)), 'utf8')).toBe(text);
  });

  it.skipIf(skip !== undefined)(
    'adds a NAR (Guix: signed import-paths), reports its info, dumps it back (Guix: export-path)',
    async () => {
      const tree = join(dir, `tree-${version}`);
      mkdirSync(join(tree, 'bin'), { recursive: true });
      writeFileSync(join(tree, 'bin', 'tool'), `#!/bin/sh\necho ${tag}\n`, { mode: 0o755 });
      writeFileSync(join(tree, 'data'), 'x'.repeat(100_000));
      const { narHash, narSize } = await hashNar(dumpNar(tree));
      const hash = makeHash('sha256', narHash);
      const reference = await s.daemon.addTextToStore('gbc-ref', `referenced ${tag}`, []);
      const path = makeSourcePath(s.daemon.storeDir, 'gbc-tree', hash, [reference]);
      expect(await s.daemon.queryPathInfo(path)).toBeNull();
      expect(await s.daemon.isValidPath(path)).toBe(false);
      const narHex = Buffer.from(narHash).toString('hex');
      await s.daemon.addNar(
        {
          path,
          narHash: narHex,
          narSize,
          references: [reference],
          ca: `fixed:r:${formatHash(hash)}`,
          ...s.importExtras,
        },
        dumpNar(tree),
      );
      expect(await s.daemon.isValidPath(path)).toBe(true);
      expect(await s.daemon.queryValidPaths([reference, path, `${path}-missing`])).toEqual(
        expect.arrayContaining([reference, path]),
      );
      expect(await s.daemon.queryPathInfo(path)).toMatchObject({
        path,
        narHash: narHex,
        narSize,
        references: [reference],
      });
      const parts: Uint8Array[] = [];
      for await (const part of s.daemon.dumpPath(path)) parts.push(part);
      expect((await hashNar(parts)).narHash).toEqual(narHash);
      expect(readFileSync(join(s.storeOnDisk, basename(path), 'bin', 'tool'), 'utf8')).toBe(
        `#!/bin/sh\necho ${tag}\n`,
      );
    },
  );

  it.skipIf(skip !== undefined)(
    'builds: builder lines apart from daemon lines, times, then already-valid',
    async () => {
      const { drvPath, out } = await s.derivation(
        'gbc-ok',
        'echo first line; echo second line >&2; printf "no newline"; echo done > $out',
      );
      const lines: LogLine[] = [];
      const result = await s.daemon.build(drvPath, { onLog: (line) => lines.push(line) });
      expect(result).toMatchObject({ success: true, status: 'built', statusCode: 0, errorMessage: '' });
      expect(result.startTime).not.toBeNull();
      expect(result.stopTime).toBeGreaterThanOrEqual(result.startTime!);
      const built = lines.filter((l) => l.source === 'build').map((l) => l.text);
      expect(built).toEqual(expect.arrayContaining(['first line', 'second line', 'no newline']));
      expect(built.some((t) => t.includes('building') || t.startsWith('@ '))).toBe(false);
      expect(lines.some((l) => l.text.startsWith('@ '))).toBe(false);
      if (version >= 0x163)
        expect(lines).toContainEqual({
          source: 'daemon',
          text: expect.stringMatching(/^building path\(s\) .*gbc-ok'$/),
        });
      expect(readFileSync(join(s.storeOnDisk, basename(out)), 'utf8')).toBe('done\n');
      const again = await s.daemon.build(drvPath, { onLog: (line) => lines.push(line) });
      expect(again).toMatchObject({ success: true, status: 'already-valid' });
    },
  );

  it.skipIf(skip !== undefined)('reports a failing builder as a result, with its log and times', async () => {
    const { drvPath } = await s.derivation('gbc-fail', 'echo about to fail; exit 3');
    const lines: LogLine[] = [];
    const result = await s.daemon.build(drvPath, { onLog: (line) => lines.push(line) });
    expect(result).toMatchObject({ success: false, status: 'permanent-failure' });
    expect(result.timeLimit).toBeUndefined();
    expect(lines).toContainEqual({ text: 'about to fail', source: 'build' });
    const message =
      version >= 0x163
        ? lines
            .filter((l) => l.source === 'daemon')
            .map((l) => l.text)
            .join('\n')
        : result.errorMessage;
    expect(message).toMatch(/failed with exit code 3/);
    expect(result.stopTime).toBeGreaterThanOrEqual(result.startTime!);
  });

  it.skipIf(skip !== undefined)('tells max-silent-time from timeout', async () => {
    const silent = await s.derivation('gbc-silent', 'echo going quiet; sleep 30; touch $out');
    const chatty = await s.derivation('gbc-chatty', 'while true; do echo tick; sleep 0.2; done');
    // One limit at a time: on a loaded machine a chatty builder can also fall silent for a second.
    await s.daemon.setOptions({ maxSilentTime: 1 });
    try {
      const lines: LogLine[] = [];
      const quiet = await s.daemon.build(silent.drvPath, { onLog: (l) => lines.push(l) });
      expect(quiet, JSON.stringify({ quiet, lines })).toMatchObject({
        success: false,
        status: 'timed-out',
        timeLimit: 'max-silent-time',
      });
      expect(lines).toContainEqual({ text: 'going quiet', source: 'build' });
      await s.daemon.setOptions({ timeout: 2 });
      const long = await s.daemon.build(chatty.drvPath, { onLog: (l) => lines.push(l) });
      expect(long, JSON.stringify({ long, lines })).toMatchObject({
        success: false,
        status: 'timed-out',
        timeLimit: 'timeout',
      });
      expect(lines.filter((l) => l.text === 'tick' && l.source === 'build').length).toBeGreaterThan(1);
      // nix-daemon 2.8 leaves the stop time of a timed-out build at 0; guix-daemon's traces give both.
      if (version >= 0x163) expect(long.stopTime).toBeGreaterThanOrEqual(long.startTime!);
    } finally {
      await s.daemon.setOptions({ maxSilentTime: 0, timeout: 0 });
    }
  });

  it.skipIf(skip !== undefined)(
    'builds one named output, holds temp roots, refuses bad text as a DaemonError',
    async () => {
      const { drvPath, out } = await s.derivation('gbc-named', 'echo named > $out');
      expect(await s.daemon.build(drvPath, { outputs: ['out'] })).toMatchObject({
        success: true,
        status: 'built',
      });
      expect(await s.daemon.queryPathInfo(out)).toMatchObject({ path: out, deriver: drvPath });
      await s.daemon.addTempRoot(out);
      const refusal: unknown = await s.daemon
        .addTextToStore('gbc-bad.drv', 'nonsense', [])
        .catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(DaemonError);
      expect(refusal).toMatchObject({ operation: 'add-text-to-store', signatureRefusal: undefined });
      const basic = {
        outputs: new Map(),
        inputSrcs: [],
        system: 'x86_64-linux',
        builder: '/bin/sh',
        args: [],
        env: new Map(),
      };
      if (version >= 0x163)
        await expect(s.daemon.buildDerivation(drvPath, basic)).rejects.toMatchObject({
          code: 'unsupported-operation',
        });
      expect(await s.daemon.isValidPath(out)).toBe(true);
    },
  );

  it.skipIf(skip !== undefined)(
    'aborts a running build: closing the connection kills the builder',
    async () => {
      const marker = `gbc-abort-${version}-${tag}`;
      const { drvPath, out } = await s.derivation(
        'gbc-abort',
        `echo started; sleep 60; echo ${marker} > $out`,
      );
      const controller = new AbortController();
      let wasRunning = false;
      const onLog = (line: LogLine): void => {
        if (line.text !== 'started') return;
        wasRunning = running(marker);
        controller.abort();
      };
      await expect(s.daemon.build(drvPath, { signal: controller.signal, onLog })).rejects.toMatchObject({
        code: 'aborted',
      });
      expect(wasRunning).toBe(true);
      let alive = true;
      for (let i = 0; i < 400 && alive; i++) {
        alive = running(marker);
        if (alive) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(alive).toBe(false);
      expect(await s.daemon.isValidPath(out)).toBe(false);
    },
  );
});
