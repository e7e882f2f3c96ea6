// The single list of test projects. Vitest 4 does not read this file on its
// own: vitest.config.ts imports it into `test.projects`.
export const projects: readonly string[] = [
  'packages/store',
  'packages/protocol',
  'packages/datastore',
  'packages/allocator',
  'packages/coordinator-server',
  'packages/agent',
  'packages/cli',
  'tests/e2e',
];
