/**
 * Deployments: model versions served on a target. `local` (this machine: the companion server
 * starts, health-checks, restarts and stops `runlab serve-model` processes) is the embedded
 * default; `kubernetes` (a cluster from the user's kubeconfig: a Deployment, a Service and a
 * Secret written with server-side apply, or a KServe InferenceService) is the second target of
 * the same object.
 *
 * A deployment holds a stable version and optionally a canary (a share of the requests, answered
 * by it) or a shadow (a copy of a share of the requests, whose answers are logged, never
 * returned). The serving runtime itself splits the traffic, so the split is exact and the same on
 * every target. Each change is a new `revision`; the runtime polls its spec and swaps in the new
 * revision without dropping requests, and the deployment's history records every change.
 *
 * Three audiences:
 * - users (REST, `user` scope): deploy, list, change the split, promote, roll back, undeploy;
 * - the serving runtime, with a `deployment`-scope token that reaches only its own deployment:
 *   its spec, its versions' files, and the telemetry it reports (stats and sampled predictions);
 * - browsers: live `deployment:*` events.
 */
import { z } from 'zod';
import { ContextName, KubernetesName, KubernetesResources } from './kubernetes';
import { RelativePath, QueryWholeNumber, shapeOnlyArray } from './refs';
import { ModelFile, ModelName, ModelSignature, VersionSelector } from './models';
import { route } from './route';

export const DeploymentTarget = z.enum(['local', 'kubernetes']);
export type DeploymentTarget = z.infer<typeof DeploymentTarget>;

export const DeploymentName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'a deployment name: lower-case letters, digits and -, as Kubernetes names are (churn-prod)');

/**
 * - `deploying`: processes starting or a new revision loading;
 * - `ready`: every replica answers ready on the current revision;
 * - `degraded`: some replicas are down and being restarted;
 * - `failed`: it could not start (see `statusMessage`), or keeps crashing;
 * - `stopped`: undeployed (kept for its history and lineage).
 */
export const DeploymentStatus = z.enum(['deploying', 'ready', 'degraded', 'failed', 'stopped']);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

export const SlotRole = z.enum(['stable', 'canary', 'shadow']);
export type SlotRole = z.infer<typeof SlotRole>;

/** One version in a deployment and its share of the traffic (percent, 0–100). */
export const DeploymentSlot = z.strictObject({
  role: SlotRole,
  modelVersionId: z.string(),
  modelName: z.string(),
  version: z.number().int().positive(),
  /** stable: 100 − canary's; canary: its share; shadow: the share of requests copied to it. */
  percent: z.number().min(0).max(100)
});
export type DeploymentSlot = z.infer<typeof DeploymentSlot>;

export const DeploymentEventKind = z.enum([
  'deployed',
  'ready',
  'split_changed',
  'promoted',
  'rolled_back',
  'restarted',
  'failed',
  'undeployed',
  /** Kubernetes: replicas or resources changed (a new revision, rolled out). */
  'updated',
  /** Kubernetes: an object differs from what Runlab wrote (a hand edit), or is gone. */
  'drifted',
  /** Kubernetes: the objects were written again as Runlab wants them. */
  'reconciled'
]);

export const DeploymentEvent = z.strictObject({
  id: z.number().int().positive(),
  kind: DeploymentEventKind,
  revision: z.number().int().positive(),
  /** What changed, in words: "canary churn v4 at 10%", "replica 2 exited (signal SIGKILL), restarted in 1 s". */
  message: z.string(),
  slots: z.array(DeploymentSlot),
  actor: z.string(),
  at: z.string()
});
export type DeploymentEvent = z.infer<typeof DeploymentEvent>;

/** Serving figures over the last minute, from the runtime's telemetry (null before any). */
export const DeploymentStats = z.strictObject({
  windowSeconds: z.number().positive(),
  requestsPerSecond: z.number().nonnegative(),
  p50Ms: z.number().nonnegative().nullable(),
  p99Ms: z.number().nonnegative().nullable(),
  /** Share of requests answered 5xx (4xx are the caller's errors, counted apart). */
  errorRate: z.number().min(0).max(1),
  clientErrorRate: z.number().min(0).max(1),
  /** Requests answered by each role (shadow counts its copies). */
  requestsByRole: z.record(z.string(), z.number().int().nonnegative()),
  updatedAt: z.string()
});
export type DeploymentStats = z.infer<typeof DeploymentStats>;

/** Kubernetes: how the objects serve the versions. */
export const KubernetesBackend = z.enum(['deployment', 'kserve']);

export const KubernetesAutoscale = z
  .strictObject({
    minReplicas: z.number().int().min(1).max(100).default(1),
    maxReplicas: z.number().int().min(1).max(100),
    targetCpuPercent: z.number().int().min(1).max(100).default(80)
  })
  .refine((a) => a.maxReplicas >= a.minReplicas, { message: 'maxReplicas must be at least minReplicas', path: ['maxReplicas'] });

export const KubernetesIngress = z.strictObject({
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'a host name (models.example.com)'),
  path: z
    .string()
    .regex(/^\/[\w./-]*$/, 'a path starting with /')
    .default('/'),
  className: KubernetesName.optional()
});

/** What the Deploy dialog asks for a Kubernetes deployment. */
export const KubernetesDeploymentRequest = z.strictObject({
  context: ContextName,
  namespace: KubernetesName.default('default'),
  backend: KubernetesBackend.default('deployment'),
  resources: KubernetesResources.default({ requests: { cpu: '100m', memory: '256Mi' }, limits: {} }),
  autoscale: KubernetesAutoscale.optional(),
  ingress: KubernetesIngress.optional(),
  /** A rollout that makes no progress this long is marked failed (Kubernetes' progressDeadlineSeconds). */
  progressDeadlineSeconds: z.number().int().min(5).max(3600).default(300)
});
export type KubernetesDeploymentRequest = z.input<typeof KubernetesDeploymentRequest>;

export const KubernetesObjectRef = z.strictObject({
  /** `Deployment`, `Service`, `Secret`, `HorizontalPodAutoscaler`, `Ingress`, `InferenceService`. */
  kind: z.string(),
  name: z.string()
});
export type KubernetesObjectRef = z.infer<typeof KubernetesObjectRef>;

export const KubernetesPod = z.strictObject({
  name: z.string(),
  /** Pending, Running, Succeeded, Failed, Unknown. */
  phase: z.string(),
  ready: z.boolean(),
  /** Why it is not ready, in the cluster's words (Unschedulable, ImagePullBackOff…); '' when ready. */
  reason: z.string(),
  /** The revision its template pins. */
  revision: z.number().int().nonnegative(),
  node: z.string().nullable()
});

export const KubernetesEvent = z.strictObject({
  type: z.string(),
  reason: z.string(),
  message: z.string(),
  /** `Pod/churn-7d9f-abcde`. */
  object: z.string(),
  count: z.number().int().nonnegative(),
  at: z.string()
});

export const KubernetesDrift = z.strictObject({
  object: KubernetesObjectRef,
  /** `spec.replicas`, `spec.template.spec.containers[0].image`, or `the object` when it is gone. */
  field: z.string(),
  expected: z.string(),
  actual: z.string()
});
export type KubernetesDrift = z.infer<typeof KubernetesDrift>;

export const KubernetesRollout = z.strictObject({
  /** progressing, complete (every replica updated and available) or failed (no progress within the deadline). */
  phase: z.enum(['progressing', 'complete', 'failed']),
  replicas: z.number().int().nonnegative(),
  updatedReplicas: z.number().int().nonnegative(),
  readyReplicas: z.number().int().nonnegative(),
  availableReplicas: z.number().int().nonnegative(),
  /** The cluster's words for where the rollout stands. */
  message: z.string()
});

/** A Kubernetes deployment's place in the cluster and what the cluster says about it. */
export const DeploymentKubernetes = z.strictObject({
  context: z.string(),
  namespace: z.string(),
  backend: KubernetesBackend,
  resources: KubernetesResources,
  autoscale: KubernetesAutoscale.nullable(),
  ingress: KubernetesIngress.nullable(),
  progressDeadlineSeconds: z.number().int().positive(),
  /** Every object Runlab created for it (undeploy removes these, and nothing else). */
  objects: z.array(KubernetesObjectRef),
  rollout: KubernetesRollout.nullable(),
  pods: z.array(KubernetesPod),
  /** The newest events of its objects and pods, newest first. */
  events: z.array(KubernetesEvent),
  drift: z.array(KubernetesDrift),
  /** When the cluster was last read; null before the first read. */
  observedAt: z.string().nullable(),
  /** Why the cluster cannot be read now (unreachable, no rights), or null. */
  clusterError: z.string().nullable()
});
export type DeploymentKubernetes = z.infer<typeof DeploymentKubernetes>;

export const Deployment = z.strictObject({
  id: z.string(),
  name: z.string(),
  target: DeploymentTarget,
  status: DeploymentStatus,
  statusMessage: z.string(),
  /** The base URL clients send requests to (`http://127.0.0.1:8081`); null until known. */
  endpoint: z.string().nullable(),
  /** What the user asked for (`churn@production`), resolved to `slots` when deployed. */
  requestedRef: z.string(),
  /** Worker processes (local) or pods (kubernetes). */
  replicas: z.number().int().positive(),
  readyReplicas: z.number().int().nonnegative(),
  revision: z.number().int().positive(),
  slots: z.array(DeploymentSlot),
  stats: DeploymentStats.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  /** Newest first; in lists only the last 20. */
  history: z.array(DeploymentEvent),
  /** Kubernetes target only; null for local. */
  kubernetes: DeploymentKubernetes.nullable()
});
export type Deployment = z.infer<typeof Deployment>;

const Percent = z.number().min(0.1).max(99.9);
const Reason = z.string().max(2000).default('');

/** A second version beside the stable one: a canary answers `percent` % of requests; a shadow gets a copy of them. */
export const SecondSlotRequest = z.strictObject({
  mode: z.enum(['canary', 'shadow']),
  version: VersionSelector,
  percent: Percent
});
export type SecondSlotRequest = z.input<typeof SecondSlotRequest>;

export const CreateDeploymentRequest = z
  .strictObject({
    /** Defaults to the model's name (lower-cased, `_` and `.` as `-`). */
    name: DeploymentName.optional(),
    model: ModelName,
    /** A version (3, v3), latest, or an alias (production), resolved now. */
    version: VersionSelector.default('latest'),
    target: DeploymentTarget.default('local'),
    replicas: z.number().int().min(1).max(16).default(1),
    /** Local target: the port to serve on (default: a free one, kept across restarts). */
    port: z.number().int().min(1024).max(65535).optional(),
    second: SecondSlotRequest.optional(),
    /** Required for the kubernetes target: where and how. */
    kubernetes: KubernetesDeploymentRequest.optional()
  })
  .superRefine((request, ctx) => {
    if (request.target === 'kubernetes' && !request.kubernetes) {
      ctx.addIssue({ code: 'custom', path: ['kubernetes'], message: 'the kubernetes target needs "kubernetes": { "context": … }' });
    }
    if (request.target === 'local' && request.kubernetes) {
      ctx.addIssue({ code: 'custom', path: ['kubernetes'], message: 'only for "target": "kubernetes"' });
    }
  });
export type CreateDeploymentRequest = z.input<typeof CreateDeploymentRequest>;

/** Changes the second slot: a new canary or shadow, a new share, or none (`second: null`). */
export const UpdateTrafficRequest = z.strictObject({
  second: SecondSlotRequest.nullable(),
  reason: Reason
});
export type UpdateTrafficRequest = z.input<typeof UpdateTrafficRequest>;

export const DeploymentActionRequest = z.strictObject({ reason: Reason });

/** Kubernetes: new replicas or resources, rolled out as a new revision. */
export const UpdateDeploymentRequest = z
  .strictObject({
    replicas: z.number().int().min(1).max(16).optional(),
    resources: KubernetesResources.optional(),
    reason: Reason
  })
  .refine((r) => r.replicas !== undefined || r.resources !== undefined, { message: 'give "replicas" or "resources"' });
export type UpdateDeploymentRequest = z.input<typeof UpdateDeploymentRequest>;

/** A serving runtime in a Kubernetes pod asks for the revision its pod template pins. */
export const ServingSpecQuery = z.strictObject({
  revision: QueryWholeNumber.pipe(z.number().int().min(1)).optional()
});

export const DeploymentParams = z.strictObject({ id: z.string().min(1).max(100) });

export const ListDeploymentsQuery = z.strictObject({
  model: ModelName.optional(),
  /** `stopped` deployments are left out unless asked for. */
  includeStopped: z.enum(['true', 'false']).default('false')
});
export const DeploymentListResponse = z.strictObject({ deployments: z.array(Deployment) });

/** What a serving runtime needs to serve its deployment's current revision. */
export const ServingSpecSlot = z.strictObject({
  role: SlotRole,
  modelVersionId: z.string(),
  modelName: z.string(),
  version: z.number().int().positive(),
  percent: z.number().min(0).max(100),
  flavor: z.string(),
  signature: ModelSignature.nullable(),
  files: z.array(ModelFile)
});
export type ServingSpecSlot = z.infer<typeof ServingSpecSlot>;

export const ServingSpec = z.strictObject({
  deploymentId: z.string(),
  name: z.string(),
  revision: z.number().int().positive(),
  slots: z.array(ServingSpecSlot),
  /** Share of requests (0–1) whose inputs and outputs the runtime sends back as prediction logs. */
  predictionSampleRate: z.number().min(0).max(1),
  /**
   * At most this many sampled predictions per second per replica (a token bucket), so logging
   * costs the same small share of serving at any traffic; counts and latencies are never sampled.
   */
  predictionLimitPerSecond: z.number().positive(),
  /** Seconds between spec polls and between telemetry reports. */
  pollSeconds: z.number().positive()
});
export type ServingSpec = z.infer<typeof ServingSpec>;

export const DeploymentFileQuery = z.strictObject({ modelVersionId: z.string().min(1).max(100), path: RelativePath });

/**
 * One column of a request: any JSON value per row (numbers become Float64 columns, the rest is
 * dictionary-encoded as sent), so only the length is checked; equal lengths per record are
 * checked at ingest, where a mismatched record is skipped and the rest of the batch kept.
 */
const PredictionColumn = shapeOnlyArray<unknown>(100_000, {}, 'One JSON value per row.');

/** One sampled request: what came in, what went out, how long it took, which version answered. */
export const PredictionRecord = z.strictObject({
  requestId: z.string().min(1).max(200),
  role: SlotRole,
  modelVersionId: z.string().min(1).max(100),
  /** Unix time, milliseconds. */
  at: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
  /** Input columns (or tensors) by name, one value per row. */
  inputs: z.record(z.string().max(250), PredictionColumn),
  /** Outputs by name, one value per row; null when the request failed. */
  outputs: z.record(z.string().max(250), PredictionColumn).nullable(),
  status: z.number().int().min(100).max(599),
  error: z.string().max(2000).nullable().default(null)
});
export type PredictionRecord = z.infer<typeof PredictionRecord>;

/**
 * What a runtime reports every `pollSeconds`: counters since its last report (by role, version
 * and HTTP status), a latency histogram (milliseconds, cumulative `le` buckets as Prometheus
 * has them), and the sampled predictions. Replicas report separately (`replica`).
 */
export const TelemetryReport = z.strictObject({
  revision: z.number().int().positive(),
  replica: z.string().min(1).max(100),
  intervalSeconds: z.number().positive().max(3600),
  counts: z
    .array(
      z.strictObject({
        role: SlotRole,
        modelVersionId: z.string().min(1).max(100),
        status: z.number().int().min(100).max(599),
        count: z.number().int().nonnegative()
      })
    )
    .max(1000),
  latency: z.strictObject({
    bucketsMs: z.array(z.number().positive()).max(64),
    /** Cumulative counts per bucket, then the total (`+Inf`) last: bucketsMs.length + 1 values. */
    counts: z.array(z.number().int().nonnegative()).max(65)
  }),
  predictions: z.array(PredictionRecord).max(10_000)
});
export type TelemetryReport = z.infer<typeof TelemetryReport>;

export const TelemetryResponse = z.strictObject({
  /** The deployment's current revision: a runtime behind it fetches the spec now. */
  revision: z.number().int().positive(),
  acceptedPredictions: z.number().int().nonnegative()
});

export const PredictionListQuery = z.strictObject({
  limit: QueryWholeNumber.pipe(z.number().int().min(1).max(10_000)).default(100)
});
export const PredictionListResponse = z.strictObject({ predictions: z.array(PredictionRecord), total: z.number().int().nonnegative() });

const TAG = 'deployments';

export const deploymentsApi = {
  listDeployments: route({
    method: 'get',
    path: '/api/deployments',
    summary: 'Deployments, newest first',
    tag: TAG,
    scope: 'user',
    query: ListDeploymentsQuery,
    status: 200,
    response: DeploymentListResponse
  }),
  createDeployment: route({
    method: 'post',
    path: '/api/deployments',
    summary: 'Deploy a model version (progress arrives as deployment:updated events)',
    tag: TAG,
    scope: 'user',
    body: CreateDeploymentRequest,
    status: 201,
    response: Deployment,
    errors: ['not_found', 'conflict', 'forbidden', 'unavailable']
  }),
  getDeployment: route({
    method: 'get',
    path: '/api/deployments/:id',
    summary: 'A deployment with its full history',
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    status: 200,
    response: Deployment,
    errors: ['not_found']
  }),
  updateDeploymentTraffic: route({
    method: 'post',
    path: '/api/deployments/:id/traffic',
    summary: 'Add, change or remove the canary or shadow version',
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    body: UpdateTrafficRequest,
    status: 200,
    response: Deployment,
    errors: ['not_found', 'conflict', 'forbidden', 'unavailable']
  }),
  promoteDeployment: route({
    method: 'post',
    path: '/api/deployments/:id/promote',
    summary: 'The canary becomes the stable version and takes all traffic',
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    body: DeploymentActionRequest,
    status: 200,
    response: Deployment,
    errors: ['not_found', 'conflict', 'forbidden', 'unavailable']
  }),
  updateDeployment: route({
    method: 'patch',
    path: '/api/deployments/:id',
    summary: 'Kubernetes: change replicas or resources (a new revision, rolled out)',
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    body: UpdateDeploymentRequest,
    status: 200,
    response: Deployment,
    errors: ['not_found', 'conflict', 'forbidden', 'unavailable']
  }),
  reconcileDeployment: route({
    method: 'post',
    path: '/api/deployments/:id/reconcile',
    summary: "Kubernetes: write the deployment's objects again as Runlab wants them (undoes drift)",
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    body: DeploymentActionRequest,
    status: 200,
    response: Deployment,
    errors: ['not_found', 'conflict', 'forbidden', 'unavailable']
  }),
  rollbackDeployment: route({
    method: 'post',
    path: '/api/deployments/:id/rollback',
    summary:
      'Drop the canary or shadow; after a failed Kubernetes rollout, go back to the last revision that was ready; otherwise to the previous stable version',
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    body: DeploymentActionRequest,
    status: 200,
    response: Deployment,
    errors: ['not_found', 'conflict', 'forbidden', 'unavailable']
  }),
  deleteDeployment: route({
    method: 'delete',
    path: '/api/deployments/:id',
    summary: 'Undeploy: stop serving and remove what was started (the record and its history stay)',
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    status: 200,
    response: Deployment,
    errors: ['not_found', 'forbidden', 'unavailable']
  }),
  listPredictions: route({
    method: 'get',
    path: '/api/deployments/:id/predictions',
    summary: 'The newest sampled predictions of a deployment',
    tag: TAG,
    scope: 'user',
    params: DeploymentParams,
    query: PredictionListQuery,
    status: 200,
    response: PredictionListResponse,
    errors: ['not_found']
  }),
  getServingSpec: route({
    method: 'get',
    path: '/api/deployments/:id/spec',
    summary: "Serving runtime: the deployment's current revision (versions, split, files)",
    tag: TAG,
    scope: 'deployment',
    params: DeploymentParams,
    query: ServingSpecQuery,
    status: 200,
    response: ServingSpec,
    errors: ['not_found']
  }),
  downloadDeploymentFile: route({
    method: 'get',
    path: '/api/deployments/:id/files',
    summary: 'Serving runtime: a file of a version the deployment serves',
    tag: TAG,
    scope: 'deployment',
    params: DeploymentParams,
    query: DeploymentFileQuery,
    rawResponse: { description: 'The file content' },
    status: 200,
    errors: ['not_found']
  }),
  reportTelemetry: route({
    method: 'post',
    path: '/api/deployments/:id/telemetry',
    summary: 'Serving runtime: counters, latencies and sampled predictions since its last report',
    tag: TAG,
    scope: 'deployment',
    params: DeploymentParams,
    body: TelemetryReport,
    largeBody: true,
    status: 200,
    response: TelemetryResponse,
    errors: ['not_found']
  })
};

/** Live events of deployments, to every signed-in browser. */
export interface DeploymentEvents {
  /** Status, readiness, slots, stats (at most every 2 s) or history changed. */
  'deployment:updated': (deployment: Deployment) => void;
}
