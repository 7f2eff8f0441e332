import { z } from 'zod';
import { IdParams } from './refs';
import { route } from './route';

export const ProjectName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'start with a letter or digit; use letters, digits, . _ -');

export const Project = z.strictObject({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The head commit of the project's git repository. */
  headCommit: z.string().nullable()
});
export type Project = z.infer<typeof Project>;

export const CreateProjectRequest = z.strictObject({
  name: ProjectName,
  description: z.string().max(2000).default('')
});
export type CreateProjectRequest = z.input<typeof CreateProjectRequest>;

export const UpdateProjectRequest = z.strictObject({
  name: ProjectName.optional(),
  description: z.string().max(2000).optional()
});
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

export const ProjectListQuery = z.strictObject({
  /** Exact project name, to find one project by name. */
  name: z.string().optional()
});

export const ProjectListResponse = z.strictObject({ projects: z.array(Project) });
export type ProjectListResponse = z.infer<typeof ProjectListResponse>;

export const projectsApi = {
  listProjects: route({
    method: 'get',
    path: '/api/projects',
    summary: 'List projects, or find one by exact name',
    tag: 'projects',
    scope: 'user',
    query: ProjectListQuery,
    status: 200,
    response: ProjectListResponse
  }),
  createProject: route({
    method: 'post',
    path: '/api/projects',
    summary: 'Create a project and its git repository',
    tag: 'projects',
    scope: 'user',
    body: CreateProjectRequest,
    status: 201,
    response: Project,
    errors: ['conflict']
  }),
  getProject: route({
    method: 'get',
    path: '/api/projects/:id',
    summary: 'Get a project',
    tag: 'projects',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Project,
    errors: ['not_found']
  }),
  updateProject: route({
    method: 'patch',
    path: '/api/projects/:id',
    summary: 'Rename a project or change its description',
    tag: 'projects',
    scope: 'user',
    params: IdParams,
    body: UpdateProjectRequest,
    status: 200,
    response: Project,
    errors: ['not_found', 'conflict']
  }),
  deleteProject: route({
    method: 'delete',
    path: '/api/projects/:id',
    summary: 'Delete a project and its repository',
    tag: 'projects',
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found']
  })
};

/** Live events of projects, to every user socket (project lists are small). */
export interface ProjectEvents {
  'project:created': (project: Project) => void;
  'project:updated': (project: Project) => void;
  'project:deleted': (payload: { id: string }) => void;
}
