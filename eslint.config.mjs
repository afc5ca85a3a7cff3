// Lint rules. The important one: workflow code runs in Temporal's deterministic sandbox, so it may
// not import Node built-ins, I/O modules or our own clients (only types, and the pure modules
// listed below).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', 'data/**', 'dist/**', '.dist-*/**', 'bin/**', 'scripts/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins,
          patterns: [
            {
              group: [
                'undici',
                '@temporalio/activity',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/envconfig',
              ],
              message: 'Workflow code must stay deterministic: no I/O modules.',
            },
            {
              group: [
                '../duo/*',
                '../jupiterone/*',
                '../staging/*',
                '../output/*',
                '../simulators/*',
                '../worker/*',
                '../cli/*',
                '../config/*',
                // Pure modules without I/O that workflows may use:
                '!../config/instance-id',
              ],
              allowTypeImports: true,
              message: 'Workflow code may import only types from I/O modules; call them through activities.',
            },
          ],
        },
      ],
    },
  },
);
