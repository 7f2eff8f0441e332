import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { VERSION } from './version';

test('defaults', () => {
  expect(loadConfig({})).toEqual({
    dataDir: path.join(os.homedir(), '.runlab'),
    host: '127.0.0.1',
    port: 8765,
    logLevel: 'info',
    allowedOrigins: [],
    allowedHosts: [],
    maxBodyBytes: 1024 * 1024,
    maxLargeBodyBytes: 64 * 1024 * 1024,
    maxArtifactBytes: 5 * 1024 ** 3,
    snapshotKeepOutputs: false,
    runnerHeartbeatMs: 5000,
    runnerLeaseMs: 30000,
    servingPython: 'python3',
    sweepPython: 'python3',
    servingPollSeconds: 2,
    predictionSampleRate: 1,
    predictionLimitPerSecond: 100,
    predictionRetentionDays: 30,
    alertEvaluationSeconds: 15,
    webhookTimeoutMs: 5000,
    webhookRetryDelaysMs: [1000, 2000, 4000, 8000],
    kubeconfig: null,
    servingImage: `runlab-serving:${VERSION}`,
    runnerImage: `runlab-runner:${VERSION}`,
    kubernetesServerUrl: null
  });
});

test('environment values are parsed; flags win over the environment', () => {
  const config = loadConfig(
    {
      RUNLAB_DATA_DIR: '/tmp/rl',
      RUNLAB_PORT: '9000',
      RUNLAB_HOST: '0.0.0.0',
      RUNLAB_LOG_LEVEL: 'debug',
      RUNLAB_ALLOWED_ORIGINS: 'https://lab.example.org, http://10.0.0.5:8888/',
      RUNLAB_ALLOWED_HOSTS: 'Lab.Example.org, .corp.example, 10.0.0.5, [fd00::5], runlab_hub',
      RUNLAB_MAX_BODY_BYTES: '2048',
      RUNLAB_MAX_ARTIFACT_BYTES: '4096',
      RUNLAB_SNAPSHOT_KEEP_OUTPUTS: '1',
      RUNLAB_SERVING_PYTHON: '/opt/venv/bin/python',
      RUNLAB_SWEEP_PYTHON: '/opt/venv/bin/python',
      RUNLAB_SERVING_POLL_SECONDS: '0.5',
      RUNLAB_PREDICTION_SAMPLE_RATE: '0.25',
      RUNLAB_KUBECONFIG: '~/kube/config',
      RUNLAB_SERVING_IMAGE: 'registry.example.com:5000/team/runlab-serving:1.2@sha256:' + 'a'.repeat(64),
      RUNLAB_RUNNER_IMAGE: 'runner:3',
      RUNLAB_KUBERNETES_SERVER_URL: 'http://runlab.tools.svc:8765/'
    },
    { port: '0', dataDir: 'relative/dir' }
  );
  expect(config).toEqual({
    dataDir: path.resolve('relative/dir'),
    host: '0.0.0.0',
    port: 0,
    logLevel: 'debug',
    allowedOrigins: ['https://lab.example.org', 'http://10.0.0.5:8888'],
    allowedHosts: ['lab.example.org', '.corp.example', '10.0.0.5', '[fd00::5]', 'runlab_hub'],
    maxBodyBytes: 2048,
    maxLargeBodyBytes: 64 * 1024 * 1024,
    maxArtifactBytes: 4096,
    snapshotKeepOutputs: true,
    runnerHeartbeatMs: 5000,
    runnerLeaseMs: 30000,
    servingPython: '/opt/venv/bin/python',
    sweepPython: '/opt/venv/bin/python',
    servingPollSeconds: 0.5,
    predictionSampleRate: 0.25,
    predictionLimitPerSecond: 100,
    predictionRetentionDays: 30,
    alertEvaluationSeconds: 15,
    webhookTimeoutMs: 5000,
    webhookRetryDelaysMs: [1000, 2000, 4000, 8000],
    kubeconfig: path.join(os.homedir(), 'kube', 'config'),
    servingImage: 'registry.example.com:5000/team/runlab-serving:1.2@sha256:' + 'a'.repeat(64),
    runnerImage: 'runner:3',
    kubernetesServerUrl: 'http://runlab.tools.svc:8765'
  });
  expect(loadConfig({ RUNLAB_ALLOWED_ORIGINS: '*' }).allowedOrigins).toEqual(['*']);
  expect(loadConfig({ RUNLAB_ALLOWED_HOSTS: '*' }).allowedHosts).toEqual(['*']);
});

test.each([
  [{ RUNLAB_PORT: 'abc' }, {}, 'Invalid setting RUNLAB_PORT (--port): expected an integer from 0 to 65535, got "abc"'],
  [{}, { port: '70000' }, 'Invalid setting RUNLAB_PORT (--port): expected an integer from 0 to 65535, got "70000"'],
  [{ RUNLAB_LOG_LEVEL: 'loud' }, {}, 'Invalid setting RUNLAB_LOG_LEVEL (--log-level)'],
  [{ RUNLAB_MAX_BODY_BYTES: '-1' }, {}, 'Invalid setting RUNLAB_MAX_BODY_BYTES: expected a positive integer'],
  [{ RUNLAB_SNAPSHOT_KEEP_OUTPUTS: 'yes' }, {}, 'Invalid setting RUNLAB_SNAPSHOT_KEEP_OUTPUTS: expected 1'],
  [{ RUNLAB_ALLOWED_ORIGINS: 'lab.example.org' }, {}, 'Invalid setting RUNLAB_ALLOWED_ORIGINS'],
  [{ RUNLAB_ALLOWED_ORIGINS: 'https://x.org/path' }, {}, 'Invalid setting RUNLAB_ALLOWED_ORIGINS'],
  [{ RUNLAB_HOST: 'bad host' }, {}, 'Invalid setting RUNLAB_HOST (--host)'],
  [
    { RUNLAB_ALLOWED_HOSTS: 'https://lab.example.org' },
    {},
    'Invalid setting RUNLAB_ALLOWED_HOSTS: expected a comma-separated list of host names'
  ],
  [
    { RUNLAB_ALLOWED_HOSTS: 'lab.example.org:8443' },
    {},
    'Invalid setting RUNLAB_ALLOWED_HOSTS: expected a comma-separated list of host names such as lab.example.org (no scheme or port), or *, got "lab.example.org:8443"'
  ],
  [{ RUNLAB_ALLOWED_HOSTS: 'ok.example, bad host' }, {}, 'Invalid setting RUNLAB_ALLOWED_HOSTS'],
  [{ RUNLAB_ALLOWED_HOSTS: 'lab.example.org/path' }, {}, 'Invalid setting RUNLAB_ALLOWED_HOSTS'],
  [{ RUNLAB_ALLOWED_HOSTS: '-lead.example' }, {}, 'Invalid setting RUNLAB_ALLOWED_HOSTS'],
  [{ RUNLAB_PREDICTION_SAMPLE_RATE: '1.5' }, {}, 'Invalid setting RUNLAB_PREDICTION_SAMPLE_RATE: expected a share of requests from 0'],
  [{ RUNLAB_SERVING_POLL_SECONDS: '0' }, {}, 'Invalid setting RUNLAB_SERVING_POLL_SECONDS: expected a number of seconds'],
  [{ RUNLAB_SERVING_IMAGE: 'has space:1' }, {}, 'Invalid setting RUNLAB_SERVING_IMAGE: expected a container image reference'],
  [{ RUNLAB_KUBERNETES_SERVER_URL: 'runlab:8765' }, {}, 'Invalid setting RUNLAB_KUBERNETES_SERVER_URL: expected an http(s) URL']
])('a bad value names the setting: %j %j', (env, flags, message) => {
  expect(() => loadConfig(env, flags)).toThrow(ConfigError);
  expect(() => loadConfig(env, flags)).toThrow(message);
});

test('every bad setting is reported at once', () => {
  try {
    loadConfig({ RUNLAB_PORT: 'x', RUNLAB_LOG_LEVEL: 'y' });
    throw new Error('expected a ConfigError');
  } catch (error) {
    expect((error as ConfigError).problems).toHaveLength(2);
  }
});

test('a runner lease must be longer than the heartbeat interval', () => {
  expect(loadConfig({ RUNLAB_RUNNER_HEARTBEAT_MS: '200', RUNLAB_RUNNER_LEASE_MS: '1000' })).toMatchObject({
    runnerHeartbeatMs: 200,
    runnerLeaseMs: 1000
  });
  expect(() => loadConfig({ RUNLAB_RUNNER_HEARTBEAT_MS: '5000', RUNLAB_RUNNER_LEASE_MS: '5000' })).toThrow(
    'Invalid setting RUNLAB_RUNNER_LEASE_MS: expected more than RUNLAB_RUNNER_HEARTBEAT_MS (5000), got 5000'
  );
  expect(() => loadConfig({ RUNLAB_RUNNER_LEASE_MS: 'soon' })).toThrow(/Invalid setting RUNLAB_RUNNER_LEASE_MS/);
});
