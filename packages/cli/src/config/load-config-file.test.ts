import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { findConfigFile, loadConfigFile } from './load-config-file.js';

describe('configuration file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers --config, then GBC_CONFIG, then gbc.config.json in the working directory', () => {
    writeFileSync(join(dir, 'gbc.config.json'), '{}');
    writeFileSync(join(dir, 'other.json'), '{}');
    writeFileSync(join(dir, 'env.json'), '{}');
    expect(findConfigFile(['--config', 'other.json'], { GBC_CONFIG: 'env.json' }, dir)).toBe(
      join(dir, 'other.json'),
    );
    expect(findConfigFile(['--config=other.json'], {}, dir)).toBe(join(dir, 'other.json'));
    expect(findConfigFile([], { GBC_CONFIG: 'env.json' }, dir)).toBe(join(dir, 'env.json'));
    expect(findConfigFile([], {}, dir)).toBe(join(dir, 'gbc.config.json'));
    rmSync(join(dir, 'gbc.config.json'));
    expect(findConfigFile([], {}, dir)).toBeUndefined();
  });

  it('refuses a named file that does not exist', () => {
    expect(() => findConfigFile(['--config', 'nope.json'], {}, dir)).toThrow(/nope\.json does not exist/);
  });

  it('loads JSON and JavaScript modules, keeping functions', async () => {
    writeFileSync(join(dir, 'a.json'), '{"database":"sqlite://x.db","parallel-hooks":{"build-success":2}}');
    expect(await loadConfigFile(join(dir, 'a.json'))).toEqual({
      database: 'sqlite://x.db',
      'parallel-hooks': { 'build-success': 2 },
    });
    writeFileSync(
      join(dir, 'b.mjs'),
      'export default async () => ({ hooks: { "build-success": (e) => e.id } });',
    );
    const config = await loadConfigFile(join(dir, 'b.mjs'));
    const hook = (config.hooks as Record<string, (e: { id: string }) => string>)['build-success']!;
    expect(hook({ id: 'b1' })).toBe('b1');
  });

  it('names the file and the reason when it cannot be read', async () => {
    writeFileSync(join(dir, 'bad.json'), '{"database":');
    await expect(loadConfigFile(join(dir, 'bad.json'))).rejects.toThrow(CliError);
    await expect(loadConfigFile(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json/);
    writeFileSync(join(dir, 'list.json'), '[1]');
    await expect(loadConfigFile(join(dir, 'list.json'))).rejects.toThrow(/must hold an object/);
  });
});
