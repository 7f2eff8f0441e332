/**
 * The Kubernetes objects of one runner a pool starts (pure: no cluster calls, so the unit tests
 * read exactly what is applied):
 * - a batch/v1 Job whose one pod runs the Runlab runner agent in one-shot mode
 *   (`runlab runner start --once`): it takes the one job reserved for its runner, runs it and
 *   exits. backoffLimit 0: a pod that fails is a lost runner, and Runlab (not the Job controller)
 *   decides whether the job runs again, under the lease rules. Kubernetes removes the finished
 *   Job and its pod after ttlSecondsAfterFinished;
 * - a Secret with that runner's token (its only token: job-scoped, revoked when the runner is
 *   done), owned by the Job so Kubernetes deletes it with the Job.
 *
 * The pool's labels are the runner's (jobs that require them run here); its resources become the
 * container's requests and limits, its node selector the pod's.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../kubernetes/clusters';
import { containerResources } from '../../kubernetes/resources';
import type { RunnerPoolRecord } from './store';

export const POOL_LABEL = 'runlab.dev/pool';
export const RUNNER_LABEL = 'runlab.dev/runner';
export const JOB_LABEL = 'runlab.dev/job';
export const TOKEN_KEY = 'token';
/** How long Kubernetes keeps a finished Job (and its pod's log) before deleting it. */
export const FINISHED_JOB_TTL_S = 300;
/** A pod that is offered nothing within this long exits (code 3): its job went elsewhere. */
export const IDLE_TIMEOUT_S = 300;
/** Kubernetes names of Jobs are at most 63 characters (their pods' labels carry them). */
const MAX_JOB_NAME = 63;

/** One runner of a pool, as its objects need it. */
export interface PoolRunner {
  runnerId: string;
  /** `<pool>-<6 chars>`: the runner's name in Runlab. */
  runnerName: string;
  /** The Runlab job it is started for. */
  runlabJobId: string;
  /** The six characters that tell this runner from the pool's others. */
  suffix: string;
}

export interface PoolManifestSettings {
  /** The image when the pool names none (RUNLAB_RUNNER_IMAGE). */
  image: string;
  /** The URL pods reach the companion server at. */
  serverUrl: string;
}

/** `runlab-<pool>-<suffix>`, the pool's part shortened to fit 63 characters. */
export function jobNameOf(poolName: string, suffix: string): string {
  const room = MAX_JOB_NAME - 'runlab-'.length - suffix.length - 1;
  return `runlab-${poolName.slice(0, room).replace(/-+$/, '')}-${suffix}`;
}

export const secretNameOf = (jobName: string): string => `${jobName}-token`;

export function labelsOf(pool: RunnerPoolRecord, runner: PoolRunner): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    'app.kubernetes.io/name': pool.name,
    'app.kubernetes.io/component': 'runner',
    [POOL_LABEL]: pool.id,
    [RUNNER_LABEL]: runner.runnerId,
    [JOB_LABEL]: runner.runlabJobId
  };
}

/** The Job whose pod runs the runner agent for one job. */
export function runnerJob(pool: RunnerPoolRecord, runner: PoolRunner, settings: PoolManifestSettings): KubernetesObject {
  const name = jobNameOf(pool.name, runner.suffix);
  const labels = labelsOf(pool, runner);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: pool.namespace, labels },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: FINISHED_JOB_TTL_S,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(Object.keys(pool.nodeSelector).length > 0 ? { nodeSelector: pool.nodeSelector } : {}),
          containers: [
            {
              name: 'runner',
              image: pool.image ?? settings.image,
              command: ['runlab', 'runner', 'start', '--once', '--idle-timeout', String(IDLE_TIMEOUT_S)],
              env: [
                { name: 'RUNLAB_URL', value: settings.serverUrl },
                { name: 'RUNLAB_TOKEN', valueFrom: { secretKeyRef: { name: secretNameOf(name), key: TOKEN_KEY } } },
                { name: 'RUNLAB_RUNNER_ONCE', value: '1' }
              ],
              resources: containerResources(pool.resources)
            }
          ]
        }
      }
    }
  } as KubernetesObject;
}

/**
 * The Secret with the runner's token. Given the Job's uid, it is owned by the Job (Kubernetes
 * deletes it with the Job); it is written once before the Job (so the pod finds it) and again,
 * owned, after.
 */
export function runnerTokenSecret(
  pool: RunnerPoolRecord,
  runner: PoolRunner,
  token: string,
  owner: { uid: string } | null = null
): KubernetesObject {
  const jobName = jobNameOf(pool.name, runner.suffix);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretNameOf(jobName),
      namespace: pool.namespace,
      labels: labelsOf(pool, runner),
      ...(owner
        ? { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: owner.uid, blockOwnerDeletion: false }] }
        : {})
    },
    type: 'Opaque',
    // `data`, not `stringData`: server-side apply owns what it writes, and stringData is write-only.
    data: { [TOKEN_KEY]: Buffer.from(token, 'utf8').toString('base64') }
  } as KubernetesObject;
}
