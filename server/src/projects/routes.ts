import { projectsApi } from '../contract';
import { implement, type Route } from '../http/registry';
import type { ProjectService } from './service';

export function projectRoutes(projects: ProjectService): Route[] {
  return implement(projectsApi, {
    listProjects: async ({ query }) => ({ projects: await projects.list(query) }),
    createProject: ({ body }) => projects.create(body),
    getProject: ({ params }) => projects.get(params.id),
    updateProject: ({ params, body }) => projects.update(params.id, body),
    deleteProject: async ({ params }) => {
      await projects.delete(params.id);
      return undefined;
    }
  });
}
