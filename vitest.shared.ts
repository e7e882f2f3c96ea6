// Shared per-project Vitest settings: resolve workspace packages from their
// TypeScript sources (the `source` export condition) so tests need no build.
// The conditions leave out `import`: vitest hands them to Node for external
// packages, and pg's CommonJS code would then `require` pg-pool's ESM build
// and break (every test that reaches PostgreSQL goes through pg).
import { defineProject } from 'vitest/config';

const conditions = ['source', 'node', 'default'];

/**
 * A Vitest project for one workspace package. Timeouts default to 120 s: a
 * bound that only a hang reaches, also on a machine whose cores are all busy
 * (scripts/test-under-load), where starting a process from sources takes tens of seconds.
 */
export function packageProject(
  name: string,
  options: { timeoutMs?: number; hookTimeoutMs?: number; fileParallelism?: boolean } = {},
) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      include: ['src/**/*.test.ts'],
      testTimeout: options.timeoutMs ?? 120_000,
      hookTimeout: options.hookTimeoutMs ?? options.timeoutMs ?? 120_000,
      fileParallelism: options.fileParallelism ?? true,
    },
  });
}
