// typescript-eslint with type information; no-floating-promises catches the classic async Express bug
// (a promise nobody awaits, whose rejection never reaches the error handler).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['generated/**', 'migrations/**', 'node_modules/**', '.tools/**', 'data/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
