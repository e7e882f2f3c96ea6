// Shared per-project Vitest settings: resolve workspace packages from their
// TypeScript sources (the `source` export condition) so tests need no build.
import { defineProject } from 'vitest/config';

const conditions = ['source', 'node', 'import', 'module', 'default'];

/** A Vitest project for one workspace package; `timeoutMs` defaults to 30 s. */
export function packageProject(name: string, options: { timeoutMs?: number; fileParallelism?: boolean } = {}) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      include: ['src/**/*.test.ts'],
      testTimeout: options.timeoutMs ?? 30_000,
      hookTimeout: options.timeoutMs ?? 30_000,
      fileParallelism: options.fileParallelism ?? true,
    },
  });
}
