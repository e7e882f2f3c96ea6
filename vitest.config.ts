// Root Vitest configuration: runs every project listed in vitest.workspace.ts.
import { defineConfig } from 'vitest/config';
import { projects } from './vitest.workspace.js';

export default defineConfig({
  test: {
    projects: [...projects],
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
  },
});
