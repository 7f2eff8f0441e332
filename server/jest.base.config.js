/** What the server's jest configurations share (jest.config.js, jest.kubernetes.config.js). */

/**
 * Packages that ship only ES modules (@kubernetes/client-node and what it imports): jest's
 * CommonJS runtime needs them transformed, which ts-jest does with allowJs.
 */
const ESM_ONLY = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  // isolatedModules in tsconfig makes ts-jest transpile file by file (fast); `npm run typecheck`
  // type-checks src and tests together.
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
    '^.+\\.m?js$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  testTimeout: 30000
};
