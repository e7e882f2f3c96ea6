// Vitest project of @gbc/coordinator-server. Like @gbc/datastore's, its
// resolve conditions leave out `import`: vitest hands them to Node for
// external packages, and pg's CommonJS code would then `require` pg-pool's
// ESM build and break (every test on PostgreSQL goes through pg).
import { defineProject } from 'vitest/config';

const conditions = ['source', 'node', 'default'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'coordinator-server',
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
