/** Unit tests of the extension's browser-independent modules (helpers, models with fake services). */

/**
 * ES-module-only packages the companion server imports (@kubernetes/client-node and what it
 * imports): rest/client.test.ts starts a real server, so jest must transform them, as the
 * server's own jest configuration does (server/jest.base.config.js).
 */
const ESM_ONLY = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

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
    ],
    '^.+\\.m?js$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  testTimeout: 20000
};
