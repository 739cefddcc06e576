/** Three suites: pure unit tests, integration tests against DynamoDB Local + fauxqs + simulators, CDK assertions. */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const setupFiles = ['<rootDir>/test/support/test-env.ts'];

module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], transform, setupFiles, testEnvironment: 'node' },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      setupFiles,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    { displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'], transform, setupFiles, testEnvironment: 'node' },
  ],
};
