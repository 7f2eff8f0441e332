import { snapshotsApi } from '../contract';
import { implement, type Route } from '../http/registry';
import type { SnapshotService } from './service';

export function snapshotRoutes(snapshots: SnapshotService): Route[] {
  return implement(snapshotsApi, {
    createSnapshot: ({ params, body }) => snapshots.create(params.id, body),
    getSnapshotNotebook: ({ params }) => snapshots.notebook(params.id)
  });
}
