import {
  CommitDatasetRequest,
  CommitDatasetResponse,
  Dataset,
  DatasetDiffQuery,
  DatasetDiffResponse,
  DatasetListResponse,
  DatasetManifestResponse,
  DatasetParams,
  DatasetVersion,
  DatasetVersionListResponse,
  DatasetVersionParams,
  FetchChunksRequest,
  MAX_CHUNK_UPLOAD_BYTES,
  MissingChunksRequest,
  MissingChunksResponse,
  ProjectName,
  UploadChunksResponse
} from '../contract';
import { z } from 'zod';
import { defineRoute, RawReply, type Route } from '../http/registry';
import type { DatasetService } from './service';

const ProjectParams = z.strictObject({ project: ProjectName });

export function datasetRoutes(datasets: DatasetService): Route[] {
  return [
    defineRoute({
      operationId: 'findMissingChunks',
      method: 'post',
      path: '/api/chunks/missing',
      summary: 'Which of these chunks the server lacks (upload only those)',
      tag: 'datasets',
      scope: 'any',
      body: MissingChunksRequest,
      // 200,000 hashes are ~14 MB of JSON.
      largeBody: true,
      status: 200,
      response: MissingChunksResponse,
      handle: ({ body }) => datasets.missingChunks(body.hashes)
    }),
    defineRoute({
      operationId: 'uploadChunks',
      method: 'post',
      path: '/api/chunks',
      summary: 'Store chunks (framed, see the contract); every chunk is verified, a bad one (or an empty body) rejects the whole upload',
      tag: 'datasets',
      scope: 'any',
      rawBody: {
        description: `Chunks back to back, each: 32-byte sha256, 1-byte codec (0 raw, 1 zstd), uint32 BE uncompressed length, uint32 BE payload length, payload; at most ${MAX_CHUNK_UPLOAD_BYTES} bytes`
      },
      status: 200,
      response: UploadChunksResponse,
      errors: ['payload_too_large'],
      handle: ({ request }) => datasets.uploadChunks(request)
    }),
    defineRoute({
      operationId: 'fetchChunks',
      method: 'post',
      path: '/api/chunks/fetch',
      summary: 'Stored chunks in upload framing, in request order, each verified before it is sent',
      tag: 'datasets',
      scope: 'any',
      body: FetchChunksRequest,
      rawResponse: { description: 'The chunks, framed as uploads are (payloads as stored: raw or zstd)' },
      status: 200,
      errors: ['not_found', 'data_corrupt'],
      handle: ({ body }) => {
        const { size, body: stream } = datasets.fetchChunks(body.hashes);
        return new RawReply(stream, 'application/octet-stream', size);
      }
    }),
    defineRoute({
      operationId: 'listDatasets',
      method: 'get',
      path: '/api/projects/:project/datasets',
      summary: "A project's datasets with their latest versions (404 for a project that does not exist)",
      tag: 'datasets',
      scope: 'any',
      params: ProjectParams,
      status: 200,
      response: DatasetListResponse,
      errors: ['not_found'],
      handle: ({ params }) => ({ datasets: datasets.list(params.project) })
    }),
    defineRoute({
      operationId: 'getDataset',
      method: 'get',
      path: '/api/projects/:project/datasets/:name',
      summary: 'A dataset with its latest version',
      tag: 'datasets',
      scope: 'any',
      params: DatasetParams,
      status: 200,
      response: Dataset,
      errors: ['not_found'],
      handle: ({ params }) => datasets.get(params.project, params.name)
    }),
    defineRoute({
      operationId: 'listDatasetVersions',
      method: 'get',
      path: '/api/projects/:project/datasets/:name/versions',
      summary: "A dataset's versions, newest first",
      tag: 'datasets',
      scope: 'any',
      params: DatasetParams,
      status: 200,
      response: DatasetVersionListResponse,
      errors: ['not_found'],
      handle: ({ params }) => ({ versions: datasets.versions(params.project, params.name) })
    }),
    defineRoute({
      operationId: 'commitDatasetVersion',
      method: 'post',
      path: '/api/projects/:project/datasets/:name/versions',
      summary:
        'Commit a manifest as the next version (project and dataset made on first use); its chunks must be uploaded first, ' +
        'each with its uncompressed size, and no file may lie inside another (`a` and `a/b`)',
      tag: 'datasets',
      scope: 'any',
      params: DatasetParams,
      body: CommitDatasetRequest,
      largeBody: true,
      status: 201,
      response: CommitDatasetResponse,
      errors: ['not_found', 'conflict'],
      handle: ({ params, body, principal }) =>
        datasets.commit(params.project, params.name, body, principal?.name ?? 'unknown')
    }),
    defineRoute({
      operationId: 'getDatasetVersion',
      method: 'get',
      path: '/api/projects/:project/datasets/:name/versions/:version',
      summary: 'One version (v3, 3 or latest)',
      tag: 'datasets',
      scope: 'any',
      params: DatasetVersionParams,
      status: 200,
      response: DatasetVersion,
      errors: ['not_found'],
      handle: ({ params }) => datasets.version(params.project, params.name, params.version)
    }),
    defineRoute({
      operationId: 'deleteDatasetVersion',
      method: 'delete',
      path: '/api/projects/:project/datasets/:name/versions/:version',
      summary: 'Delete one version (its number is never given again); `runlab gc` reclaims chunks no other version uses',
      tag: 'datasets',
      scope: 'user',
      params: DatasetVersionParams,
      status: 204,
      errors: ['not_found'],
      handle: ({ params, log }) => {
        datasets.deleteVersion(params.project, params.name, params.version);
        log.info({ project: params.project, dataset: params.name, version: params.version }, 'dataset version deleted');
        return undefined;
      }
    }),
    defineRoute({
      operationId: 'deleteDataset',
      method: 'delete',
      path: '/api/projects/:project/datasets/:name',
      summary: 'Delete a dataset and every version of it; `runlab gc` reclaims chunks no other dataset uses',
      tag: 'datasets',
      scope: 'user',
      params: DatasetParams,
      status: 204,
      errors: ['not_found'],
      handle: ({ params, log }) => {
        datasets.deleteDataset(params.project, params.name);
        log.info({ project: params.project, dataset: params.name }, 'dataset deleted');
        return undefined;
      }
    }),
    defineRoute({
      operationId: 'getDatasetManifest',
      method: 'get',
      path: '/api/projects/:project/datasets/:name/versions/:version/manifest',
      summary: "A version's files with their chunks, sorted by path",
      tag: 'datasets',
      scope: 'any',
      params: DatasetVersionParams,
      status: 200,
      response: DatasetManifestResponse,
      // Up to millions of chunk refs, built by the server from its own rows.
      checkResponse: false,
      errors: ['not_found'],
      handle: ({ params }) => datasets.manifest(params.project, params.name, params.version)
    }),
    defineRoute({
      operationId: 'diffDatasetVersions',
      method: 'get',
      path: '/api/projects/:project/datasets/:name/diff',
      summary: 'Files added, removed and changed between two versions, with byte counts',
      tag: 'datasets',
      scope: 'any',
      params: DatasetParams,
      query: DatasetDiffQuery,
      status: 200,
      response: DatasetDiffResponse,
      errors: ['not_found'],
      handle: ({ params, query }) => datasets.diff(params.project, params.name, query.from, query.to, query.limit)
    })
  ];
}
