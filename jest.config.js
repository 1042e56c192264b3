/** Unit tests run alone; integration tests share one real stack started by globalSetup. */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  // One test file at a time: integration files share one stack and read its queue depth.
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/tests/helpers/summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      // Every response a test receives is checked against the OpenAPI document.
      setupFilesAfterEnv: ['<rootDir>/tests/helpers/api-contract-setup.ts'],
      globalSetup: '<rootDir>/tests/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/tests/helpers/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'reliability',
      // Each file starts the stack it needs.
      testMatch: ['<rootDir>/tests/reliability/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/tests/helpers/api-contract-setup.ts'],
    },
    {
      ...common,
      displayName: 'docs',
      // The README's and getting-started's commands, run verbatim; starts the stacks they need.
      testMatch: ['<rootDir>/tests/docs/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/tests/helpers/api-contract-setup.ts'],
    },
    {
      ...common,
      displayName: 'bundle',
      // Packages the aws stage and runs its artifact's handlers; starts its own emulator.
      testMatch: ['<rootDir>/tests/bundle/**/*.test.ts'],
    },
  ],
};
