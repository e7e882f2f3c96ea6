// Vitest project of @gbc/datastore. Its resolve conditions leave out `import`:
// vitest hands them to Node for external packages, and pg's CommonJS code
// would then `require` pg-pool's ESM build and break.
import { defineProject } from 'vitest/config';

const conditions = ['source', 'node', 'default'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'datastore',
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
