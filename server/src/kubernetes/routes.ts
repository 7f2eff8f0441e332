import { kubernetesApi } from '../contract';
import { implement, type Route } from '../http/registry';
import { deploymentRights, runnerPoolRights, type KubernetesClusters } from './clusters';

export function kubernetesRoutes(clusters: KubernetesClusters): Route[] {
  return implement(kubernetesApi, {
    listKubernetesContexts: () => clusters.contexts(),
    listKubernetesNamespaces: async ({ params }) => ({ namespaces: await clusters.namespaces(params.context) }),
    checkKubernetesAccess: ({ body }) =>
      body.purpose === 'runnerPool'
        ? clusters.checkAccess(body.context, body.namespace, runnerPoolRights(), 'runner pool')
        : clusters.checkAccess(body.context, body.namespace, deploymentRights(body), 'deployment')
  });
}
