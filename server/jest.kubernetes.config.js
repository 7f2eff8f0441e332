/**
 * The Kubernetes suite: integration tests against a real control plane (kube-apiserver, etcd,
 * controller-manager, scheduler and KWOK on loopback), started once per run by the global setup
 * and stopped by the teardown. One worker: the files share the control plane, each in its own
 * namespace.
 */
const base = require('./jest.base.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/kubernetes'],
  globalSetup: '<rootDir>/test/kubernetes/globalSetup.mjs',
  globalTeardown: '<rootDir>/test/kubernetes/globalTeardown.mjs',
  maxWorkers: 1,
  testTimeout: 120000
};
