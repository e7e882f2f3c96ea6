// Vitest project of @gbc/agent. Like @gbc/datastore's, its resolve conditions
// leave out `import`: the tests run a real coordinator, whose datastore loads
// pg, and pg's CommonJS code would otherwise `require` pg-pool's ESM build.
import { defineProject } from 'vitest/config';

const conditions = ['source', 'node', 'default'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'agent',
    include: ['src/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
