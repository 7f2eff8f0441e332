import { retrainApi } from '../../contract';
import { implement, type Principal, type Route } from '../../http/registry';
import type { RetrainService } from './service';

export function retrainRoutes(retrains: RetrainService): Route[] {
  return implement(retrainApi, {
    retrainDeployment: ({ params, body, principal }) => retrains.retrain(params.id, body, principal as Principal),
    listRetrains: ({ params }) => ({ retrains: retrains.list(params.id) })
  });
}
