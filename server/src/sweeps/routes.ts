import { sweepsApi } from '../contract';
import { implement, type Principal, type Route } from '../http/registry';
import type { ProjectService } from '../projects/service';
import type { SweepService } from './service';

export function sweepRoutes(sweeps: SweepService, projects: ProjectService): Route[] {
  return implement(sweepsApi, {
    createSweep: ({ body, principal }) => sweeps.create(body, principal as Principal),
    listSweeps: async ({ query }) => {
      if (query.project === undefined) return { sweeps: sweeps.list(null) };
      const [project] = await projects.list({ name: query.project });
      return { sweeps: project?.name === query.project ? sweeps.list(project.id) : [] };
    },
    getSweep: ({ params }) => sweeps.get(params.id),
    listTrials: ({ params }) => ({ trials: sweeps.trials(params.id) }),
    pauseSweep: ({ params }) => sweeps.pause(params.id),
    resumeSweep: ({ params }) => sweeps.resume(params.id),
    cancelSweep: ({ params }) => sweeps.cancel(params.id)
  });
}
