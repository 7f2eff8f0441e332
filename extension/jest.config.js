/** Unit tests of the extension's browser-independent modules (helpers, models with fake services). */
module.exports = {
  rootDir: '..',
  roots: ['<rootDir>/extension'],
  testMatch: ['**/*.test.ts'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      {
        tsconfig: {
          module: 'commonjs',
          esModuleInterop: true,
          jsx: 'react',
          strict: true,
          skipLibCheck: true,
          isolatedModules: true,
          types: ['jest', 'node']
        }
      }
    ]
  },
  testTimeout: 20000
};
