/**
 * Kubernetes clusters, as the user's kubeconfig (RUNLAB_KUBECONFIG, else KUBECONFIG, else
 * ~/.kube/config) names them, or the service account of the pod the companion server runs in.
 * They are targets of deployments (`target: "kubernetes"`) and homes of runner pools. The Deploy
 * dialog lists contexts and namespaces, and asks the cluster up front (SelfSubjectAccessReview)
 * whether the user may create what Runlab would create there.
 */
import { z } from 'zod';
import { route } from './route';

/** A Kubernetes object name (RFC 1123 label: lower-case letters, digits and -). */
export const KubernetesName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'a Kubernetes name: lower-case letters, digits and - (team-a)');

export const ContextName = z.string().min(1).max(253);

/** A CPU or memory quantity as Kubernetes writes them: 500m, 2, 512Mi, 4Gi. */
export const Quantity = z
  .string()
  .regex(/^(\d+(\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, 'a Kubernetes quantity: 500m or 2 (CPU), 512Mi or 4Gi (memory)');

export const ResourceAmounts = z.strictObject({ cpu: Quantity.optional(), memory: Quantity.optional() });

/** Requests (what the scheduler reserves) and limits (what the pod may use) of each pod. */
export const KubernetesResources = z.strictObject({
  requests: ResourceAmounts.default({ cpu: '100m', memory: '256Mi' }),
  limits: ResourceAmounts.default({})
});
export type KubernetesResources = z.output<typeof KubernetesResources>;

export const KubernetesContext = z.strictObject({
  name: z.string(),
  cluster: z.string(),
  /** The API server's URL. */
  server: z.string(),
  user: z.string(),
  /** The context's namespace, `default` when it names none. */
  namespace: z.string(),
  /** The kubeconfig's current context (or the in-cluster one). */
  current: z.boolean()
});
export type KubernetesContext = z.infer<typeof KubernetesContext>;

export const KubernetesContextList = z.strictObject({
  contexts: z.array(KubernetesContext),
  /** Where they come from: a kubeconfig's path, or `in-cluster`; null when there is none. */
  source: z.string().nullable(),
  /** Why there are none, in words that say what to do. */
  message: z.string()
});

export const ContextParams = z.strictObject({ context: ContextName });
export const NamespaceList = z.strictObject({ namespaces: z.array(z.string()) });

export const AccessPurpose = z.enum(['deployment', 'runnerPool']);

export const AccessCheckRequest = z.strictObject({
  context: ContextName,
  namespace: KubernetesName,
  /** What the objects would be for: a deployment (Deployment, Service, Secret…) or a runner pool (Job, Secret…). */
  purpose: AccessPurpose.default('deployment'),
  /** Also check HorizontalPodAutoscalers, Ingresses or KServe InferenceServices. */
  autoscale: z.boolean().default(false),
  ingress: z.boolean().default(false),
  kserve: z.boolean().default(false)
});

export const MissingRight = z.strictObject({
  verb: z.string(),
  /** `deployments.apps`, `secrets`, `inferenceservices.serving.kserve.io`. */
  resource: z.string(),
  namespace: z.string()
});
export type MissingRight = z.infer<typeof MissingRight>;

export const AccessCheckResponse = z.strictObject({
  allowed: z.boolean(),
  missing: z.array(MissingRight),
  /** "You may create everything a deployment needs in team-a" or what is missing. */
  message: z.string(),
  /** Whether the cluster has KServe's InferenceService CRD. */
  kserveAvailable: z.boolean()
});
export type AccessCheckResponse = z.infer<typeof AccessCheckResponse>;

const TAG = 'kubernetes';

export const kubernetesApi = {
  listKubernetesContexts: route({
    method: 'get',
    path: '/api/kubernetes/contexts',
    summary: "The kubeconfig's contexts (or the in-cluster service account)",
    tag: TAG,
    scope: 'user',
    status: 200,
    response: KubernetesContextList
  }),
  listKubernetesNamespaces: route({
    method: 'get',
    path: '/api/kubernetes/contexts/:context/namespaces',
    summary: "Namespaces of a context (the context's own one when listing is not allowed)",
    tag: TAG,
    scope: 'user',
    params: ContextParams,
    status: 200,
    response: NamespaceList,
    errors: ['not_found', 'unavailable']
  }),
  checkKubernetesAccess: route({
    method: 'post',
    path: '/api/kubernetes/access',
    summary: 'Whether the context may create what a deployment or runner pool needs in a namespace',
    tag: TAG,
    scope: 'user',
    body: AccessCheckRequest,
    status: 200,
    response: AccessCheckResponse,
    errors: ['not_found', 'unavailable']
  })
};
