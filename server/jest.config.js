/** Unit tests live next to their feature (src/**\/*.test.ts); integration tests in test/. */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  // isolatedModules in tsconfig makes ts-jest transpile file by file (fast); `npm run typecheck`
  // type-checks src and tests together.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] },
  testTimeout: 30000
};
