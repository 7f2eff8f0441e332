/** Unit tests live next to their feature (src/**\/*.test.ts); integration tests in test/. */

const base = require('./jest.base.config');

/** The Kubernetes suite (test/kubernetes/) runs apart, against its own control plane: jest.kubernetes.config.js. */
module.exports = {
  ...base,
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/kubernetes/']
};
