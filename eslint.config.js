import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'cdk.out/**', 'coverage/**', 'node_modules/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // The layers ARCHITECTURE.md draws: the domain, the ports and the use cases decide and never
    // render or talk to a vendor, so they import no adapter and no vendor SDK.
    files: ['shared/domain/**', 'shared/ports/**', 'shared/use-cases/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/adapters'],
              message:
                'use cases, ports and the domain depend on ports only; adapters are composed in wiring.ts',
            },
            {
              group: [
                '@slack/*',
                'jira.js',
                'jira.js/*',
                '@aws-sdk/*',
                'ldapts',
                'mysql2',
                'mysql2/*',
                'node-vault',
              ],
              message: 'vendor SDKs belong in shared/adapters/',
            },
          ],
        },
      ],
    },
  },
);
