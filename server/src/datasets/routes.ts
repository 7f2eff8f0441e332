import { datasetsApi } from '../contract';
import { implement, RawReply, type Route } from '../http/registry';
import type { DatasetService } from './service';

export function datasetRoutes(datasets: DatasetService): Route[] {
  return implement(datasetsApi, {
    findMissingChunks: ({ body }) => datasets.missingChunks(body.hashes),
    uploadChunks: ({ request }) => datasets.uploadChunks(request),
    fetchChunks: ({ body }) => {
      const { size, body: stream } = datasets.fetchChunks(body.hashes);
      return new RawReply(stream, 'application/octet-stream', size);
    },
    listDatasets: ({ params }) => ({ datasets: datasets.list(params.project) }),
    getDataset: ({ params }) => datasets.get(params.project, params.name),
    listDatasetVersions: ({ params }) => ({ versions: datasets.versions(params.project, params.name) }),
    commitDatasetVersion: ({ params, body, principal }) => datasets.commit(params.project, params.name, body, principal?.name ?? 'unknown'),
    getDatasetVersion: ({ params }) => datasets.version(params.project, params.name, params.version),
    deleteDatasetVersion: ({ params, log }) => {
      datasets.deleteVersion(params.project, params.name, params.version);
      log.info({ project: params.project, dataset: params.name, version: params.version }, 'dataset version deleted');
      return undefined;
    },
    deleteDataset: ({ params, log }) => {
      datasets.deleteDataset(params.project, params.name);
      log.info({ project: params.project, dataset: params.name }, 'dataset deleted');
      return undefined;
    },
    getDatasetManifest: ({ params }) => datasets.manifest(params.project, params.name, params.version),
    diffDatasetVersions: ({ params, query }) => datasets.diff(params.project, params.name, query.from, query.to, query.limit)
  });
}
