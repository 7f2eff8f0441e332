import path from 'node:path';
import {
  Artifact,
  ArtifactPathQuery,
  CompareQuery,
  CompareResponse,
  CreateRunRequest,
  IdParams,
  LogBatchRequest,
  LogBatchResponse,
  MetricHistoryQuery,
  MetricHistoryResponse,
  Run,
  RunListQuery,
  RunListResponse,
  RunMetricParams,
  UpdateRunRequest
} from '../contract';
import { defineRoute, RawReply, type Route } from '../http/registry';
import type { RunService } from './service';

export function runRoutes(runs: RunService): Route[] {
  return [
    defineRoute({
      operationId: 'createRun',
      method: 'post',
      path: '/api/runs',
      summary: 'Start a run; its project is created on first use',
      tag: 'runs',
      scope: 'user',
      body: CreateRunRequest,
      // Carries the local modules the kernel imported, which can exceed the default limit.
      largeBody: true,
      status: 201,
      response: Run,
      handle: ({ body }) => runs.create(body)
    }),
    defineRoute({
      operationId: 'listRuns',
      method: 'get',
      path: '/api/runs',
      summary: 'List runs with params, tags and metric summaries (no environment, no artifacts), filtered and sorted',
      tag: 'runs',
      scope: 'user',
      query: RunListQuery,
      status: 200,
      response: RunListResponse,
      // Built from typed rows; checking 100 runs' nested objects on every list cost ~15% of it.
      checkResponse: false,
      handle: ({ query }) => runs.list(query)
    }),
    // Before /api/runs/:id, so express does not take "compare" for a run id.
    defineRoute({
      operationId: 'compareRuns',
      method: 'get',
      path: '/api/runs/compare',
      summary: 'Runs side by side with every metric series, downsampled',
      tag: 'runs',
      scope: 'user',
      query: CompareQuery,
      status: 200,
      response: CompareResponse,
      // Up to 100 runs × every key × maxPoints points: checking each point would double the time.
      checkResponse: false,
      errors: ['not_found'],
      handle: ({ query }) => runs.compare(query.ids.split(',').filter(Boolean), query.maxPoints)
    }),
    defineRoute({
      operationId: 'getRun',
      method: 'get',
      path: '/api/runs/:id',
      summary: 'Get a run with its environment and artifacts',
      tag: 'runs',
      scope: 'user',
      params: IdParams,
      status: 200,
      response: Run,
      checkResponse: false,
      errors: ['not_found'],
      handle: ({ params }) => runs.get(params.id)
    }),
    defineRoute({
      operationId: 'updateRun',
      method: 'patch',
      path: '/api/runs/:id',
      summary: 'Rename, end or fail a run (ending sets endedAt, default now)',
      tag: 'runs',
      scope: 'user',
      params: IdParams,
      body: UpdateRunRequest,
      // An error's traceback may be 200,000 characters, which JSON can escape to 12 bytes each.
      largeBody: true,
      status: 200,
      response: Run,
      errors: ['not_found'],
      handle: ({ params, body }) => runs.update(params.id, body)
    }),
    defineRoute({
      operationId: 'deleteRun',
      method: 'delete',
      path: '/api/runs/:id',
      summary: 'Delete a run, its metrics and artifacts (and blobs nothing else uses)',
      tag: 'runs',
      scope: 'user',
      params: IdParams,
      status: 204,
      errors: ['not_found'],
      handle: ({ params }) => {
        runs.delete(params.id);
        return undefined;
      }
    }),
    defineRoute({
      operationId: 'logToRun',
      method: 'post',
      path: '/api/runs/:id/log',
      summary: 'Log a batch of params, tags, metric points and inputs/outputs; retried batches are applied once',
      tag: 'runs',
      scope: 'user',
      params: IdParams,
      body: LogBatchRequest,
      largeBody: true,
      status: 200,
      response: LogBatchResponse,
      errors: ['not_found', 'conflict'],
      handle: ({ params, body }) => runs.log(params.id, body)
    }),
    defineRoute({
      operationId: 'getMetricHistory',
      method: 'get',
      path: '/api/runs/:id/metrics/:key',
      summary: 'A metric series, downsampled to maxPoints; full resolution when the step range holds fewer',
      tag: 'runs',
      scope: 'user',
      params: RunMetricParams,
      query: MetricHistoryQuery,
      status: 200,
      response: MetricHistoryResponse,
      errors: ['not_found'],
      handle: ({ params, query }) => runs.history(params.id, params.key, query)
    }),
    defineRoute({
      operationId: 'uploadArtifact',
      method: 'put',
      path: '/api/runs/:id/artifacts',
      summary: 'Store a file with the run at ?path= (raw bytes, content-addressed, deduplicated)',
      tag: 'runs',
      scope: 'user',
      params: IdParams,
      query: ArtifactPathQuery,
      rawBody: { description: 'The file content, limited by RUNLAB_MAX_ARTIFACT_BYTES' },
      status: 201,
      response: Artifact,
      errors: ['not_found'],
      handle: ({ params, query, request }) => runs.putArtifact(params.id, query.path, request)
    }),
    defineRoute({
      operationId: 'downloadArtifact',
      method: 'get',
      path: '/api/runs/:id/artifacts',
      summary: 'The bytes of the artifact at ?path= (Content-Type from its extension)',
      tag: 'runs',
      scope: 'user',
      params: IdParams,
      query: ArtifactPathQuery,
      rawResponse: { description: 'The artifact content' },
      status: 200,
      errors: ['not_found'],
      handle: ({ params, query }) => {
        const { artifact, body } = runs.openArtifact(params.id, query.path);
        // Artifacts are user content: never let a browser run it in the server's origin.
        return new RawReply(body, path.extname(artifact.path) || 'application/octet-stream', artifact.size, {
          'X-Content-Type-Options': 'nosniff',
          'Content-Security-Policy': 'sandbox',
          ETag: `"${artifact.digest}"`
        });
      }
    })
  ];
}
