import {
  CreateProjectRequest,
  IdParams,
  Project,
  ProjectListQuery,
  ProjectListResponse,
  UpdateProjectRequest
} from '../contract';
import { defineRoute, type Route } from '../http/registry';
import type { ProjectService } from './service';

export function projectRoutes(projects: ProjectService): Route[] {
  return [
    defineRoute({
      operationId: 'listProjects',
      method: 'get',
      path: '/api/projects',
      summary: 'List projects, or find one by exact name',
      tag: 'projects',
      scope: 'user',
      query: ProjectListQuery,
      status: 200,
      response: ProjectListResponse,
      handle: async ({ query }) => ({ projects: await projects.list(query) })
    }),
    defineRoute({
      operationId: 'createProject',
      method: 'post',
      path: '/api/projects',
      summary: 'Create a project and its git repository',
      tag: 'projects',
      scope: 'user',
      body: CreateProjectRequest,
      status: 201,
      response: Project,
      errors: ['conflict'],
      handle: ({ body }) => projects.create(body)
    }),
    defineRoute({
      operationId: 'getProject',
      method: 'get',
      path: '/api/projects/:id',
      summary: 'Get a project',
      tag: 'projects',
      scope: 'user',
      params: IdParams,
      status: 200,
      response: Project,
      errors: ['not_found'],
      handle: ({ params }) => projects.get(params.id)
    }),
    defineRoute({
      operationId: 'updateProject',
      method: 'patch',
      path: '/api/projects/:id',
      summary: 'Rename a project or change its description',
      tag: 'projects',
      scope: 'user',
      params: IdParams,
      body: UpdateProjectRequest,
      status: 200,
      response: Project,
      errors: ['not_found', 'conflict'],
      handle: ({ params, body }) => projects.update(params.id, body)
    }),
    defineRoute({
      operationId: 'deleteProject',
      method: 'delete',
      path: '/api/projects/:id',
      summary: 'Delete a project and its repository',
      tag: 'projects',
      scope: 'user',
      params: IdParams,
      status: 204,
      errors: ['not_found'],
      handle: async ({ params }) => {
        await projects.delete(params.id);
        return undefined;
      }
    })
  ];
}
