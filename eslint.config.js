// Type-aware linting for the whole workspace. Rules that are off or relaxed
// say why; everything else from typescript-eslint's recommended type-checked
// set applies.
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.services/**', '.scratch/**', '.test-results/**'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The root tsconfig names every TypeScript file of the workspace,
        // the packages' build and test configuration included.
        project: './tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // An unawaited promise is a lost error or a lost result.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/datastore/src/migrations/*.ts'],
    rules: {
      // Migrations are frozen in time and must not see today's Database type;
      // Kysely<any> is how Kysely's documentation types the handle they get.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      // Vitest types its asymmetric matchers (expect.any, expect.stringMatching,
      // expect.arrayContaining, …) as `any` so that they fit any field of an
      // expected value: each one in a toEqual/toMatchObject literal would be an
      // "unsafe assignment". The other no-unsafe-* rules stay on in tests, so
      // an untyped JSON body used as a value is still reported.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // Tests stand in for sockets and files with async generators that yield
      // chunks at hand (the code under test takes only AsyncIterable); the
      // rule reports each and would have it made a sync generator, which that
      // code cannot take. The promise rules above still apply to tests.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
