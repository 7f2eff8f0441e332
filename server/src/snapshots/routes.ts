import { CreateSnapshotRequest, IdParams, RunSnapshot, SnapshotNotebookResponse } from '../contract';
import { defineRoute, type Route } from '../http/registry';
import type { SnapshotService } from './service';

export function snapshotRoutes(snapshots: SnapshotService): Route[] {
  return [
    defineRoute({
      operationId: 'createSnapshot',
      method: 'post',
      path: '/api/runs/:id/snapshot',
      summary: "Commit the run's notebook (outputs stripped) and local modules to the project repository",
      tag: 'snapshots',
      scope: 'user',
      params: IdParams,
      body: CreateSnapshotRequest,
      largeBody: true,
      status: 201,
      response: RunSnapshot,
      errors: ['not_found', 'conflict'],
      handle: ({ params, body }) => snapshots.create(params.id, body)
    }),
    defineRoute({
      operationId: 'getSnapshotNotebook',
      method: 'get',
      path: '/api/runs/:id/snapshot/notebook',
      summary: "The notebook as committed in the run's snapshot",
      tag: 'snapshots',
      scope: 'user',
      params: IdParams,
      status: 200,
      response: SnapshotNotebookResponse,
      errors: ['not_found'],
      handle: ({ params }) => snapshots.notebook(params.id)
    })
  ];
}
