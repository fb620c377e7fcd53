import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules whose import means I/O: core must import none of them. */
const IO_MODULES = [
  'fs',
  'net',
  'http',
  'https',
  'http2',
  'child_process',
  'worker_threads',
  'dgram',
  'dns',
  'tls',
  'readline',
  'cluster',
].flatMap((m) => [m, `node:${m}`, `node:${m}/*`, `${m}/*`]);
const IO_PACKAGES = [
  'ioredis',
  'bullmq',
  'fastify',
  '@fastify/*',
  '@kubernetes/*',
  'nodemailer',
  'pino',
];

/**
 * One restricted-imports rule per layer: `above`, the folders of src/ (or files) it must not
 * import; `io`, whether I/O modules are refused too. Tests and fixtures beside the code are free.
 */
function layers(rules) {
  return Object.entries(rules).map(([files, { above, io }]) => ({
    files: [files],
    ignores: ['**/*.test.ts', '**/*.fixture.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: above.map((dir) => (dir.endsWith('.ts') ? `**/${dir}` : `**/${dir}/**`)),
              message: `${files} must not import a layer above it (docs/ARCHITECTURE.md: Code layout)`,
            },
            ...(io
              ? [{ group: [...IO_MODULES, ...IO_PACKAGES], message: `${files} is pure: no I/O` }]
              : []),
          ],
        },
      ],
    },
  }));
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'ui/dist/',
      'coverage/',
      '.chainr/',
      'bench/results/',
      'test-results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  // The house's dependency rules: core is pure (no I/O, nothing above it); store and executors
  // sit on core and never import each other (executors get what they need from work); the shared
  // HTTP plumbing and the process helpers sit below the services; nothing imports a layer above.
  ...layers({
    'src/core/**': {
      above: ['store', 'executors', 'http', 'process', 'services', 'cli', 'chaos', 'config.ts'],
      io: true,
    },
    // The API's wire contract and its client: compiled into the UI too, so pure like core.
    'src/api/**': {
      above: ['store', 'executors', 'http', 'process', 'services', 'cli', 'chaos', 'config.ts'],
      io: true,
    },
    'src/store/**': { above: ['executors', 'http', 'process', 'services', 'cli', 'chaos'] },
    'src/executors/**': { above: ['store', 'http', 'process', 'services', 'cli', 'chaos'] },
    // Artifact stores and moving artifacts: on core, below the services that compose them.
    'src/artifacts/**': {
      above: ['store', 'executors', 'http', 'process', 'services', 'cli', 'chaos', 'config.ts'],
    },
    // The SQL archive: on core and the run record's types, below the services that will use it.
    'src/archive/**': {
      above: ['executors', 'http', 'process', 'services', 'cli', 'chaos', 'config.ts'],
    },
    'src/process/**': { above: ['store', 'executors', 'http', 'services', 'cli', 'chaos'] },
    'src/http/**': { above: ['services', 'cli', 'chaos'] },
    'src/services/**': { above: ['cli', 'chaos'] },
  }),
);
