import { defineConfig } from 'tsup';

export default defineConfig({
  // The cache's helper processes run cache-process.js, forked from beside index.js (cache/cache-processes.ts).
  entry: { index: 'src/index.ts', 'cache-process': 'src/cache/cache-process.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
