/** Unit tests live next to their feature (src/**\/*.test.ts); integration tests in test/. */

/**
 * Packages that ship only ES modules (@kubernetes/client-node and what it imports): jest's
 * CommonJS runtime needs them transformed, which ts-jest does with allowJs.
 */
const ESM_ONLY = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

/** @type {import('jest').Config} */
const base = {
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

/** The Kubernetes suite (test/kubernetes/) runs apart, against its own control plane: jest.kubernetes.config.js. */
module.exports = {
  ...base,
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/kubernetes/']
};
module.exports.base = base;
