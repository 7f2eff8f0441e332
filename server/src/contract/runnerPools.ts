/**
 * Runner pools: runners the scheduler starts itself, one per queued job. A pool of kind
 * `kubernetes` (a context and namespace of the user's kubeconfig, an image with Runlab in it,
 * resources, a cap on parallel pods) turns each queued job that no connected runner takes into
 * a Kubernetes Job: its pod runs `runlab runner start --once` with a token for that one runner,
 * runs the job and exits; finished Jobs are removed by Kubernetes (`ttlSecondsAfterFinished`).
 * A pod that fails or disappears is a lost runner: its attempt is lost and the job re-queued,
 * under the lease rules of the runners issue.
 */
import { z } from 'zod';
import { ContextName, KubernetesName, KubernetesResources } from './kubernetes';
import { IdParams } from './refs';
import { route } from './route';
import { Labels } from './runners';

export const RunnerPoolKind = z.enum(['kubernetes']);

export const RunnerPoolName = KubernetesName;

/** One pod the pool started, and the job it runs. */
export const RunnerPoolPod = z.strictObject({
  /** The Kubernetes Job's name (its pod's name begins with it). */
  jobName: z.string(),
  podName: z.string().nullable(),
  /** Pending, Running, Succeeded, Failed, or Gone (deleted). */
  phase: z.string(),
  /** The cluster's words when it is not running (Unschedulable: 0/2 nodes are available…). */
  reason: z.string(),
  runnerId: z.string(),
  /** The Runlab job it was started for. */
  runlabJobId: z.string(),
  createdAt: z.string()
});
export type RunnerPoolPod = z.infer<typeof RunnerPoolPod>;

export const RunnerPool = z.strictObject({
  id: z.string(),
  name: z.string(),
  kind: RunnerPoolKind,
  context: z.string(),
  namespace: z.string(),
  /** The image its pods run: Runlab's Python package and what the notebooks import. */
  image: z.string(),
  /** Labels its runners have: jobs that require them may run here. */
  labels: z.array(z.string()),
  resources: KubernetesResources,
  /** Kubernetes node labels its pods must land on (gpu: "true"). */
  nodeSelector: z.record(z.string(), z.string()),
  maxParallel: z.number().int().positive(),
  /** ok, or error with statusMessage (the cluster refused a Job, or is unreachable). */
  status: z.enum(['ok', 'error']),
  statusMessage: z.string(),
  pods: z.array(RunnerPoolPod),
  createdAt: z.string(),
  createdBy: z.string()
});
export type RunnerPool = z.infer<typeof RunnerPool>;

export const CreateRunnerPoolRequest = z.strictObject({
  name: RunnerPoolName,
  kind: RunnerPoolKind.default('kubernetes'),
  context: ContextName,
  namespace: KubernetesName.default('default'),
  /** Default: RUNLAB_RUNNER_IMAGE. */
  image: z.string().min(1).max(500).optional(),
  labels: Labels.default([]),
  resources: KubernetesResources.default({ requests: { cpu: '500m', memory: '1Gi' }, limits: {} }),
  nodeSelector: z.record(z.string().min(1).max(317), z.string().max(63)).default({}),
  maxParallel: z.number().int().min(1).max(256).default(4)
});
export type CreateRunnerPoolRequest = z.input<typeof CreateRunnerPoolRequest>;

export const RunnerPoolList = z.strictObject({ pools: z.array(RunnerPool) });

const TAG = 'runnerPools';

export const runnerPoolsApi = {
  listRunnerPools: route({
    method: 'get',
    path: '/api/runner-pools',
    summary: 'Runner pools and the pods they run now',
    tag: TAG,
    scope: 'user',
    status: 200,
    response: RunnerPoolList
  }),
  createRunnerPool: route({
    method: 'post',
    path: '/api/runner-pools',
    summary: 'Add a Kubernetes runner pool (its rights in the namespace are checked first)',
    tag: TAG,
    scope: 'user',
    body: CreateRunnerPoolRequest,
    status: 201,
    response: RunnerPool,
    errors: ['conflict', 'not_found', 'forbidden', 'unavailable']
  }),
  deleteRunnerPool: route({
    method: 'delete',
    path: '/api/runner-pools/:id',
    summary: 'Remove a runner pool: its running pods are deleted and their jobs re-queued',
    tag: TAG,
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found']
  })
};

/** Live events of runner pools, to every signed-in browser. */
export interface RunnerPoolEvents {
  'runner_pool:updated': (pool: RunnerPool) => void;
  'runner_pool:removed': (payload: { id: string }) => void;
}
