import { runnerPoolsApi } from '../../contract';
import { implement, type Principal, type Route } from '../../http/registry';
import type { RunnerPoolService } from './service';

export function runnerPoolRoutes(pools: RunnerPoolService): Route[] {
  return implement(runnerPoolsApi, {
    listRunnerPools: () => ({ pools: pools.list() }),
    createRunnerPool: ({ body, principal }) => pools.create(body, principal as Principal),
    deleteRunnerPool: async ({ params }) => {
      await pools.remove(params.id);
      return undefined;
    }
  });
}
