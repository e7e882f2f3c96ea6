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
      // The typed rule also reports async generators without `await`, and would
      // have each turned into a sync generator; but an async generator is how
      // this code builds an AsyncIterable from values at hand (test streams,
      // sync-to-async adapters) for consumers that take only AsyncIterable.
      // The base rule skips generators and reports every other async function
      // without `await`.
      '@typescript-eslint/require-await': 'off',
      'require-await': 'error',
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
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
