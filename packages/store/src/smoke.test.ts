import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('test environment', () => {
  it('reaches the nix-daemon', () => {
    const out = execFileSync('nix-instantiate', ['--eval', '-E', '1 + 1'], { encoding: 'utf8' });
    expect(out.trim()).toBe('2');
  });
});
