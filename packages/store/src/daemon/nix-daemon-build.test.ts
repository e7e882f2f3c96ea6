// The daemon client against the real nix-daemon: handshake, derivations added
// as text and built with their logs, failures and refusals as typed values.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogLine } from './build-daemon.js';
import { parseDerivation } from '../derivation/parse.js';
import { DaemonError } from './errors.js';
import { createBuildDaemon } from './native-daemon.js';
import { instantiate, nix, removeDir, tempDir } from './test-helpers.js';

const dir = tempDir('gbc-daemon-build-');
const daemon = createBuildDaemon({ storeDir: '/nix/store' });
const tag = randomUUID();

afterAll(async () => {
  await daemon.close();
  removeDir(dir);
});

/** Adds a .drv written by nix-instantiate back through the client, as text with its references. */
function addDrv(drvPath: string): Promise<string> {
  const references = nix('nix-store', ['-q', '--references', drvPath])
    .toString('utf8')
    .split('\n')
    .filter(Boolean);
  return daemon.addTextToStore(basename(drvPath).slice(33), readFileSync(drvPath), references);
}

describe('nix-daemon 2.8 (Nix dialect)', () => {
  it('shakes hands as protocol 1.34 and reports the daemon version', async () => {
    const info = await daemon.info();
    const version = nix('nix-daemon', ['--version']).toString('utf8').trim().split(' ').pop();
    expect(info.dialect).toBe('nix');
    expect(info.daemonVersion).toBe(0x122);
    expect(info.protocolVersion).toBe(0x122);
    expect(info.versionString).toBe(version);
    expect(info.trusted).toBeNull();
  });

  it('adds a derivation as text (same text, same path) and builds it with its log', async () => {
    const drv = instantiate(
      dir,
      'gbc-ok',
      'echo first line; echo second line >&2; printf "no newline"; echo done > $out',
      tag,
    );
    expect(await addDrv(drv)).toBe(drv);
    expect(await addDrv(drv)).toBe(drv);
    const lines: LogLine[] = [];
    const result = await daemon.build(drv, { onLog: (line) => lines.push(line) });
    expect(result).toMatchObject({ success: true, status: 'built', statusCode: 0, errorMessage: '' });
    expect(result.stopTime).toBeGreaterThanOrEqual(result.startTime ?? Infinity);
    const built = lines.filter((l) => l.source === 'build').map((l) => l.text);
    expect(built).toEqual(expect.arrayContaining(['first line', 'second line', 'no newline']));
    const out = nix('nix-store', ['-q', '--outputs', drv]).toString('utf8').trim();
    expect(await daemon.isValidPath(out)).toBe(true);
    expect(readFileSync(out, 'utf8')).toBe('done\n');
    // Building again: already valid, no builder run.
    expect(await daemon.build(drv, { outputs: ['out'] })).toMatchObject({
      success: true,
      status: 'already-valid',
    });
  });

  it('reports a failing builder as a typed failure with its log', async () => {
    const drv = instantiate(dir, 'gbc-fail', 'echo about to fail; exit 3', tag);
    await addDrv(drv);
    const lines: string[] = [];
    const result = await daemon.build(drv, { onLog: (line) => lines.push(line.text) });
    expect(result.success).toBe(false);
    expect(result.status).toBe('permanent-failure');
    expect(result.errorMessage).toContain('failed with exit code 3');
    expect(lines).toContain('about to fail');
  });

  it('builds with BuildDerivation, without the .drv in the store, success and failure as results', async () => {
    const ok = instantiate(dir, 'gbc-basic', 'echo from basic; echo basic > $out', `${tag}-basic`);
    const bad = instantiate(dir, 'gbc-basic-bad', 'echo failing basic; exit 7', `${tag}-basic`);
    const okDrv = parseDerivation(readFileSync(ok));
    const out = okDrv.outputs.get('out')!.path;
    nix('nix-store', ['--delete', ok]);
    expect(await daemon.isValidPath(ok)).toBe(false);
    const lines: string[] = [];
    const built = await daemon.buildDerivation(ok, okDrv, { onLog: (l) => lines.push(l.text) });
    expect(built).toMatchObject({ success: true, status: 'built', errorMessage: '' });
    expect(lines).toContain('from basic');
    expect(readFileSync(out, 'utf8')).toBe('basic\n');
    const failed = await daemon.buildDerivation(bad, parseDerivation(readFileSync(bad)), {
      onLog: (l) => lines.push(l.text),
    });
    expect(failed).toMatchObject({ success: false, status: 'permanent-failure' });
    expect(failed.errorMessage).toContain('failed with exit code 7');
    expect(lines).toContain('failing basic');
  });

  it('applies options: a silent builder is killed by max-silent-time', async () => {
    const drv = instantiate(dir, 'gbc-silent', 'echo going quiet; sleep 30; touch $out', tag);
    await addDrv(drv);
    const timed = createBuildDaemon({ maxConnections: 1 });
    try {
      await timed.setOptions({ maxSilentTime: 1, keepFailed: false });
      const lines: LogLine[] = [];
      const result = await timed.build(drv, { onLog: (l) => lines.push(l) });
      // With options set (verbosity 0) the builder's lines still arrive.
      expect(lines).toContainEqual({ text: 'going quiet', source: 'build' });
      expect(result.success).toBe(false);
      expect(result.status).toBe('timed-out');
      expect(result.timeLimit).toBe('max-silent-time');
      expect(result.errorMessage).toMatch(/timed out|silent/);
    } finally {
      await timed.close();
    }
  });

  it('applies options: a chatty builder is killed by the build timeout', async () => {
    const drv = instantiate(dir, 'gbc-slow', 'while true; do echo tick; sleep 0.2; done', tag);
    await addDrv(drv);
    const timed = createBuildDaemon({ maxConnections: 1 });
    try {
      await timed.setOptions({ timeout: 1 });
      let ticks = 0;
      const result = await timed.build(drv, { onLog: (l) => void (l.text === 'tick' && ticks++) });
      expect(result).toMatchObject({ success: false, status: 'timed-out', timeLimit: 'timeout' });
      expect(result.errorMessage).toMatch(/timed out after 1 seconds/);
      expect(ticks).toBeGreaterThan(1);
    } finally {
      await timed.close();
    }
  });

  it('aborts a running build: the daemon kills the builder', async () => {
    const marker = `gbc-abort-marker-${tag}`;
    const drv = instantiate(dir, 'gbc-abort', `echo started; sleep 60; echo ${marker} > $out`, tag);
    await addDrv(drv);
    const running = (): boolean =>
      readdirSync('/proc').some((pid) => {
        try {
          return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(marker);
        } catch {
          return false;
        }
      });
    const controller = new AbortController();
    let wasRunning = false;
    const onLog = (line: LogLine): void => {
      if (line.text !== 'started') return;
      wasRunning = running();
      controller.abort();
    };
    await expect(daemon.build(drv, { signal: controller.signal, onLog })).rejects.toMatchObject({
      code: 'aborted',
    });
    expect(wasRunning).toBe(true);
    // Wait (bounded) until no process runs the builder's script any more.
    let alive = true;
    for (let i = 0; i < 400 && alive; i++) {
      alive = running();
      if (alive) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(alive).toBe(false);
    const out = nix('nix-store', ['-q', '--outputs', drv]).toString('utf8').trim();
    expect(await daemon.isValidPath(out)).toBe(false);
  });

  it('shares at most maxConnections connections among concurrent operations', async () => {
    const pool = createBuildDaemon({ maxConnections: 2 });
    try {
      const drvs = [1, 2, 3].map((i) =>
        instantiate(dir, `gbc-par${i}`, `echo par ${i}; echo ${i} > $out`, tag),
      );
      for (const drv of drvs) await addDrv(drv);
      const seen: number[] = [];
      const sample = (): void => void seen.push(pool.openConnections);
      const builds = drvs.map((drv) => pool.build(drv, { onLog: sample }));
      const checks = Array.from({ length: 10 }, () => pool.isValidPath(drvs[0]!).finally(sample));
      const results = await Promise.all(builds);
      expect(await Promise.all(checks)).toEqual(Array(10).fill(true));
      expect(results.map((r) => r.status)).toEqual(['built', 'built', 'built']);
      expect(Math.max(...seen)).toBe(2);
      expect(pool.openConnections).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
    }
    expect(pool.openConnections).toBe(0);
  });

  it('turns daemon refusals into DaemonError carrying the daemon message', async () => {
    const refusal = daemon.isValidPath('/tmp/not-in-the-store');
    await expect(refusal).rejects.toBeInstanceOf(DaemonError);
    await expect(refusal).rejects.toMatchObject({
      code: 'daemon-error',
      daemonMessage: expect.stringContaining('not in the Nix store'),
    });
    const missing = `/nix/store/${'0'.repeat(32)}-missing.drv`;
    // Nix 2.8 answers a missing derivation with a result, not an error.
    expect(await daemon.build(missing)).toMatchObject({
      success: false,
      status: 'misc-failure',
      errorMessage: `cannot build missing derivation '${missing}'`,
    });
    // A derivation whose output path is wrong: the daemon refuses to store it.
    const good = readFileSync(instantiate(dir, 'gbc-bad', 'touch $out', tag), 'latin1');
    const bad = good.replace(
      /\/nix\/store\/([0-9a-z]{32})-gbc-bad"/g,
      (_m, h: string) => `/nix/store/${h.replace(/^./, h[0] === 'a' ? 'b' : 'a')}-gbc-bad"`,
    );
    expect(bad).not.toBe(good);
    const error: unknown = await daemon.addTextToStore('gbc-bad.drv', Buffer.from(bad, 'latin1'), []).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DaemonError);
    expect((error as DaemonError).operation).toBe('add-text-to-store');
    expect((error as DaemonError).daemonMessage).toMatch(
      /^derivation '\/nix\/store\/.*-gbc-bad\.drv' has incorrect output '.*', should be '.*'$/,
    );
    // The pool still works after refusals.
    expect(await daemon.isValidPath('/nix/store/' + '0'.repeat(32) + '-x')).toBe(false);
  });
});
