// `gbc cache key new` writes a key pair in nix-store --generate-binary-cache-key's format.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKey, parsePublicKey, parseSecretKey } from '@gbc/store';
import { ExitCode } from '../errors.js';
import { runGbc } from '../testing/gbc-process.js';

describe('gbc cache key new', { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-key-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes NAME.sec (0600) and NAME.pub that belong together, and refuses to overwrite them', async () => {
    const run = await runGbc(['cache', 'key', 'new', 'cache.example.org-1', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    const secretText = readFileSync(join(dir, 'cache.example.org-1.sec'), 'utf8');
    const publicText = readFileSync(join(dir, 'cache.example.org-1.pub'), 'utf8');
    expect(secretText).toMatch(/^cache\.example\.org-1:[A-Za-z0-9+/]{86}==$/);
    expect(publicText).toMatch(/^cache\.example\.org-1:[A-Za-z0-9+/]{43}=$/);
    expect(formatPublicKey(parseSecretKey(secretText))).toBe(publicText);
    expect(parsePublicKey(publicText).name).toBe('cache.example.org-1');
    expect(statSync(join(dir, 'cache.example.org-1.sec')).mode & 0o777).toBe(0o600);
    expect((JSON.parse(run.stdout) as { publicKey: string }).publicKey).toBe(publicText);

    const again = await runGbc(['cache', 'key', 'new', 'cache.example.org-1'], { cwd: dir });
    expect(again.code).toBe(ExitCode.failure);
    expect(again.stderr).toMatch(/exists; remove it or pass --force/);
    expect(readFileSync(join(dir, 'cache.example.org-1.sec'), 'utf8')).toBe(secretText);
  });

  it('refuses a name with characters Nix would not accept', async () => {
    const bad = await runGbc(['cache', 'key', 'new', 'a:b'], { cwd: dir });
    expect(bad.code).toBe(ExitCode.usage);
  });
});
