// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // Bundled code validates with zod/mini (see lib/zod.ts); classic zod only in the response contracts.
    files: ['lib/**', 'functions/**'],
    ignores: ['lib/http/contracts.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'zod', message: "Lambda bundles use 'zod/mini' (see lib/zod.ts)." }] }],
    },
  },
  {
    files: ['infra/local/**', 'tests/**', 'infra/build.ts'],
    rules: { 'no-console': 'off' },
  },
);
