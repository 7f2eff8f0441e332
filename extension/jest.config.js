/** Unit tests of the extension's browser-independent modules (request helper, versions, kernel attach code). */
module.exports = {
  rootDir: '..',
  roots: ['<rootDir>/extension'],
  testMatch: ['**/*.test.ts'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: { module: 'commonjs', esModuleInterop: true, jsx: 'react', strict: true, skipLibCheck: true, isolatedModules: true, types: ['jest', 'node'] } }]
  },
  testTimeout: 20000
};
