import { deploymentsApi } from '../contract';
import { implement, RawReply, type Principal, type Route } from '../http/registry';
import type { DeploymentService } from './service';

export function deploymentRoutes(deployments: DeploymentService): Route[] {
  return implement(deploymentsApi, {
    listDeployments: ({ query }) => ({ deployments: deployments.list(query) }),
    createDeployment: ({ body, principal }) => deployments.create(body, principal as Principal),
    getDeployment: ({ params }) => deployments.get(params.id),
    updateDeploymentTraffic: ({ params, body, principal }) => deployments.updateTraffic(params.id, body, principal as Principal),
    promoteDeployment: ({ params, body, principal }) => deployments.promote(params.id, body.reason, principal as Principal),
    updateDeployment: ({ params, body, principal }) => deployments.update(params.id, body, principal as Principal),
    reconcileDeployment: ({ params, body, principal }) => deployments.reconcile(params.id, body.reason, principal as Principal),
    rollbackDeployment: ({ params, body, principal }) => deployments.rollback(params.id, body.reason, principal as Principal),
    deleteDeployment: ({ params, principal }) => deployments.undeploy(params.id, principal as Principal),
    listPredictions: ({ params, query }) => deployments.predictions(params.id, query.limit),
    getServingSpec: ({ params, query, principal }) => deployments.spec(params.id, principal as Principal, query.revision),
    downloadDeploymentFile: ({ params, query, principal }) => {
      const file = deployments.openFile(params.id, query.modelVersionId, query.path, principal as Principal);
      return new RawReply(file.stream, 'application/octet-stream', file.size);
    },
    reportTelemetry: ({ params, body, principal }) => deployments.reportTelemetry(params.id, body, principal as Principal)
  });
}
