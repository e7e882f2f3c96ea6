// Option defaults and refusals, the default system name, and the state file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAgentError } from './errors.js';
import { resolveAgentOptions } from './options.js';
import { StateFile } from './state-file.js';
import type { AgentState } from './state-file.js';
import { defaultSystem } from './system.js';

const base = {
  coordinatorUrl: 'http://127.0.0.1:8745',
  stateDir: '/tmp/x',
  uuid: '00000000-0000-4000-8000-000000000001',
  password: 'p'.repeat(20),
};

describe('resolveAgentOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveAgentOptions(base);
    expect(o.maxParallelBuilds).toBe(1);
    expect(o.maxAllocatedBuilds).toBe(1);
    expect(o.maxParallelUploads).toBe(2);
    expect(o.maxLoad1).toBe(availableParallelism());
    expect(o.uploadCompression).toBe('zstd');
    expect(o.storeDir).toBe('/nix/store');
    expect(o.systems).toEqual([defaultSystem()]);
    expect(o.guixSigningKeyFile).toBe('/etc/guix/signing-key.sec');
    expect(resolveAgentOptions({ ...base, guixSigningKeyFile: '/srv/agent.sec' }).guixSigningKeyFile).toBe(
      '/srv/agent.sec',
    );
  });

  it('refuses missing or mixed credentials and non-positive limits', () => {
    const refused = (o: object): boolean => {
      try {
        resolveAgentOptions({ coordinatorUrl: 'http://x', stateDir: '/tmp/x', ...o });
        return false;
      } catch (error) {
        return isAgentError(error, 'bad-options');
      }
    };
    expect(refused({})).toBe(true);
    expect(refused({ password: 'x', name: 'n', token: 't' })).toBe(true);
    expect(refused({ password: 'x' })).toBe(true);
    expect(refused({ token: 't' })).toBe(true);
    expect(refused({ ...base, maxParallelBuilds: 0 })).toBe(true);
    expect(refused({ ...base, maxBuildTimeoutSeconds: 0 })).toBe(true);
    expect(refused({ ...base, maxBuildSilentSeconds: 1.5 })).toBe(true);
    expect(refused({ ...base, maxBuildTimeoutSeconds: 3600, maxBuildSilentSeconds: 60 })).toBe(false);
    expect(refused({ name: 'n', tokenFile: '/tmp/t' })).toBe(false);
  });

  it('takes http and https substitute URLs and refuses others, credentials in a URL, and non-URLs', () => {
    const urls = {
      derivationSubstituteUrls: ['https://data.guix.gnu.org'],
      nonDerivationSubstituteUrls: ['http://127.0.0.1:8080/cache', 'https://bordeaux.guix.gnu.org'],
    };
    expect(resolveAgentOptions({ ...base, ...urls })).toMatchObject(urls);
    for (const bad of [
      'ftp://mirror.example/guix',
      'file:///srv/cache',
      'bordeaux.guix.gnu.org',
      '',
      'https://user:secret@cache.example',
      `http://${'a'.repeat(300)} x`,
    ]) {
      for (const field of ['derivationSubstituteUrls', 'nonDerivationSubstituteUrls']) {
        let error: unknown;
        try {
          resolveAgentOptions({ ...base, [field]: ['https://ok.example', bad] });
        } catch (e) {
          error = e;
        }
        expect(
          isAgentError(error, 'bad-options') && error.message.startsWith(`${field}: `),
          `${field} ${bad}`,
        ).toBe(true);
      }
    }
  });
});

describe('defaultSystem', () => {
  it('names systems as Nix does', () => {
    expect(defaultSystem('x64', 'linux')).toBe('x86_64-linux');
    expect(defaultSystem('arm64', 'linux')).toBe('aarch64-linux');
    expect(defaultSystem('ia32', 'linux')).toBe('i686-linux');
  });
});

describe('StateFile', () => {
  it('keeps pending results and the session across instances', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-statefile-'));
    try {
      const a = new StateFile(dir);
      await a.load();
      await a.addPending({ build: 'b1', result: { result: 'success' } });
      await a.addPending({ build: 'b2', result: { result: 'build-failure', message: 'exit 1' } });
      await a.addPending({ build: 'b1', result: { result: 'canceled' } });
      await a.update((s) => ({ ...s, session: { agent: 'u', password: 'p', coordinator: 'http://c' } }));
      const b = new StateFile(dir);
      const loaded = await b.load();
      expect(loaded.pendingResults).toEqual([
        { build: 'b2', result: { result: 'build-failure', message: 'exit 1' } },
        { build: 'b1', result: { result: 'canceled' } },
      ]);
      expect(loaded.session?.agent).toBe('u');
      await b.removePending('b2');
      expect((JSON.parse(readFileSync(b.path, 'utf8')) as AgentState).pendingResults).toEqual([
        { build: 'b1', result: { result: 'canceled' } },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes concurrent updates together, each durable when its promise resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-statefile-'));
    try {
      const a = new StateFile(join(dir, 'nested'));
      await a.load();
      const writes: string[] = [];
      const first = a.addPending({ build: 'b0', result: { result: 'success' } });
      // While b0's write is under way, ten more updates: they share the writes after it.
      const rest = Array.from({ length: 10 }, (_, i) =>
        a.addPending({ build: `b${i + 1}`, result: { result: 'success' } }).then(() => {
          writes.push(readFileSync(a.path, 'utf8'));
        }),
      );
      await Promise.all([first, ...rest]);
      // Every update found its own build in the file when it resolved.
      for (const [i, text] of writes.entries())
        expect((JSON.parse(text) as AgentState).pendingResults.map((p) => p.build)).toContain(`b${i + 1}`);
      expect(new Set(writes).size).toBe(1); // one write held all ten
      expect((await new StateFile(join(dir, 'nested')).load()).pendingResults).toHaveLength(11);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
