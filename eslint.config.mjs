// ESLint with typescript-eslint, plus the layering rule: functions/core/ is pure logic and the
// contracts (ports.ts, errors.ts); the outside world (adapters, AWS SDK, Powertools, X's client,
// handlers, runtime wiring) is kept out of it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export const coreLayering = {
  files: ['functions/core/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['**/adapters', '**/adapters/**'], message: 'core defines ports; adapters implement them (core must not import adapters).' },
          { group: ['@aws-sdk/*'], message: 'core is free of AWS: put SDK calls in an adapter.' },
          { group: ['@aws-lambda-powertools/*', '@middy/*'], message: 'core is free of Lambda tooling: log and count in the handler.' },
          { group: ['twitter-api-v2'], message: "core is free of X's client: put it in an adapter." },
          { group: ['**/handler', '../config', '../wiring', '../observability', '../fifo-batch'], message: 'core must not import handlers or runtime wiring.' },
        ],
      },
    ],
  },
};

// The simulators sit below the tools that start them (local runner, CLIs, bench, tests): their shared
// pieces live in simulators/ (e.g. simulators/http.ts) or functions/core/, never up in a tool.
export const simulatorLayering = {
  files: ['simulators/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: ['**/local/**', '**/cli/**', '**/bench/**', '**/infra/**', '**/test/**'],
            message: 'simulators sit below the tools that use them: move the shared piece into simulators/ (or functions/core/).',
          },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'coverage/**', '.local/**', '**/*.js', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  coreLayering,
  simulatorLayering,
);
