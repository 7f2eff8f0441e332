import path from 'node:path';
import { runsApi } from '../contract';
import { implement, RawReply, type Route } from '../http/registry';
import type { RunService } from './service';

export function runRoutes(runs: RunService): Route[] {
  return implement(runsApi, {
    createRun: ({ body }) => runs.create(body),
    listRuns: ({ query }) => runs.list(query),
    groupRuns: ({ query }) => runs.groups(query),
    compareRuns: ({ query }) => runs.compare(query.ids.split(',').filter(Boolean), query.maxPoints),
    getRun: ({ params }) => runs.get(params.id),
    updateRun: ({ params, body }) => runs.update(params.id, body),
    deleteRun: ({ params }) => {
      runs.delete(params.id);
      return undefined;
    },
    logToRun: ({ params, body }) => runs.log(params.id, body),
    getMetricHistory: ({ params, query }) => runs.history(params.id, params.key, query),
    uploadArtifact: ({ params, query, request }) => runs.putArtifact(params.id, query.path, request),
    downloadArtifact: ({ params, query }) => {
      const { artifact, body } = runs.openArtifact(params.id, query.path);
      // Artifacts are user content: never let a browser run it in the server's origin.
      return new RawReply(body, path.extname(artifact.path) || 'application/octet-stream', artifact.size, {
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': 'sandbox',
        ETag: `"${artifact.digest}"`
      });
    }
  });
}
