import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'web/vendor/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // tests read JSON bodies of many shapes
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // engine/ and domain/ stay pure: no I/O, no clock, no randomness.
    files: ['src/engine/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:fs*', 'node:net', 'node:http*', 'node:crypto', 'pg', 'kysely', '@electric-sql/*', '*/store/*', '*/http/*'] }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'engine/domain take time as input' },
        { object: 'Math', property: 'random', message: 'engine/domain take randomness as input' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'engine/domain take time as input' }],
    },
  },
);
