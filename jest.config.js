/** Three suites: pure unit tests, integration tests against DynamoDB Local + fauxqs + simulators, CDK assertions. */
const transform = { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] };

module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], transform, testEnvironment: 'node' },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    { displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'], transform, testEnvironment: 'node' },
  ],
};
