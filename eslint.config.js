// Lint gates `npm test`: promises are never left floating, and the layout of SPEC §1 is a rule, not goodwill —
// api/ imports nothing of ours but api/ (and no I/O), kube/ only api/, the shells never import one another or local/.
import tseslint from 'typescript-eslint';

const ours = ['api', 'kube', 'webhook', 'operator', 'plugin', 'local', 'test', 'tools'];
/** `no-restricted-imports` forbidding every folder of ours but `allowed`, plus `extra` patterns. */
const onlyImports = (allowed, extra = []) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        ...ours
          .filter((f) => !allowed.includes(f))
          .map((f) => ({
            group: [`**/${f}/**`, `../${f}/**`, `../../${f}/**`],
            message: `SPEC §1: this folder may import only ${allowed.join(', ')} of ours`,
          })),
        ...extra,
      ],
    },
  ],
});
const IO_MODULES = [
  'node:fs',
  'node:fs/promises',
  'node:http',
  'node:https',
  'node:child_process',
  'node:dns',
  'node:dns/promises',
  'node:dgram',
  'node:worker_threads',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist2/**',
      'node_modules/**',
      'coverage/**',
      '.local/**',
      'local/flink-runner/target/**',
      'eslint.config.js',
      'test/support/reporter.cjs',
    ],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-duplicate-imports': 'error',
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: onlyImports(['api'], [{ group: IO_MODULES, message: 'SPEC §1: api/ is pure: no I/O' }]),
  },
  { files: ['kube/**/*.ts'], rules: onlyImports(['api', 'kube']) },
  { files: ['webhook/**/*.ts'], rules: onlyImports(['api', 'kube', 'webhook']) },
  { files: ['operator/**/*.ts'], rules: onlyImports(['api', 'kube', 'operator']) },
  { files: ['plugin/**/*.ts'], rules: onlyImports(['api', 'kube', 'plugin']) },
);
