import { FINISHED_JOB_TTL_S, jobNameOf, runnerJob, runnerTokenSecret, type PoolRunner } from './manifests';
import type { RunnerPoolRecord } from './store';

const pool: RunnerPoolRecord = {
  id: 'pool-1',
  name: 'gpu-pool',
  kind: 'kubernetes',
  context: 'prod',
  namespace: 'ml',
  image: null,
  labels: ['gpu'],
  resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } },
  nodeSelector: { 'nvidia.com/gpu.present': 'true' },
  maxParallel: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'ada'
};
const runner: PoolRunner = { runnerId: 'runner-1', runnerName: 'gpu-pool-abc123', runlabJobId: 'job-1', suffix: 'abc123' };
const settings = { image: 'runlab-runner:1.0', serverUrl: 'http://runlab.tools.svc:8765' };

type Spec = {
  spec: {
    backoffLimit: number;
    ttlSecondsAfterFinished: number;
    template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
  };
};

describe('runner pool manifests', () => {
  test('a Job whose one pod runs the agent once, with the token from the Secret, the pool’s resources and node selector', () => {
    const job = runnerJob(pool, runner, settings) as ReturnType<typeof runnerJob> & Spec;
    const labels = {
      'app.kubernetes.io/managed-by': 'runlab',
      'app.kubernetes.io/name': 'gpu-pool',
      'app.kubernetes.io/component': 'runner',
      'runlab.dev/pool': 'pool-1',
      'runlab.dev/runner': 'runner-1',
      'runlab.dev/job': 'job-1'
    };
    expect(job.metadata).toEqual({ name: 'runlab-gpu-pool-abc123', namespace: 'ml', labels });
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.ttlSecondsAfterFinished).toBe(FINISHED_JOB_TTL_S);
    expect(job.spec.template.metadata.labels).toEqual(labels);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(job.spec.template.spec.containers).toEqual([
      {
        name: 'runner',
        image: 'runlab-runner:1.0',
        command: ['runlab', 'runner', 'start', '--once', '--idle-timeout', '300'],
        env: [
          { name: 'RUNLAB_URL', value: 'http://runlab.tools.svc:8765' },
          { name: 'RUNLAB_TOKEN', valueFrom: { secretKeyRef: { name: 'runlab-gpu-pool-abc123-token', key: 'token' } } },
          { name: 'RUNLAB_RUNNER_ONCE', value: '1' }
        ],
        resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } }
      }
    ]);
  });

  test('the pool’s own image wins; no node selector and no limits leave those fields out', () => {
    const plain = {
      ...pool,
      image: 'registry.example.com/team/runner:2',
      nodeSelector: {},
      resources: { requests: { cpu: '1' }, limits: {} }
    };
    const job = runnerJob(plain, runner, settings) as ReturnType<typeof runnerJob> & Spec;
    const podSpec = job.spec.template.spec;
    expect(podSpec).not.toHaveProperty('nodeSelector');
    expect(podSpec.containers[0]).toMatchObject({ image: 'registry.example.com/team/runner:2', resources: { requests: { cpu: '1' } } });
    expect(podSpec.containers[0].resources).not.toHaveProperty('limits');
  });

  test('the Secret holds the token and, once the Job exists, is owned by it', () => {
    const first = runnerTokenSecret(pool, runner, 'rl_r_secret') as ReturnType<typeof runnerTokenSecret> & { data: Record<string, string> };
    expect(first.metadata?.name).toBe('runlab-gpu-pool-abc123-token');
    expect(first.metadata?.ownerReferences).toBeUndefined();
    expect(Buffer.from(first.data.token, 'base64').toString('utf8')).toBe('rl_r_secret');
    const owned = runnerTokenSecret(pool, runner, 'rl_r_secret', { uid: 'uid-7' });
    expect(owned.metadata?.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'runlab-gpu-pool-abc123', uid: 'uid-7', blockOwnerDeletion: false }
    ]);
  });

  test('a long pool name is shortened so the Job name fits 63 characters', () => {
    const name = jobNameOf(`${'a'.repeat(48)}-${'b'.repeat(14)}`, 'xyz789');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^runlab-a+-xyz789$/);
  });
});
