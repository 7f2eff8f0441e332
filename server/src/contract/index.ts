/**
 * The one contract between Runlab's parts: every route, request body, response and live event,
 * one module per feature.
 *
 * The server validates with these schemas and implements the routes by operationId, the OpenAPI
 * document at /api/openapi.json is generated from them, and the extension imports their types
 * (type-only, so no zod code reaches the browser bundle) and a route table generated from `api`.
 * Keep these modules free of server-only imports.
 */
import { authApi } from './auth';
import { datasetsApi } from './datasets';
import { deploymentsApi } from './deployments';
import { healthApi } from './health';
import { kubernetesApi } from './kubernetes';
import { modelsApi } from './models';
import { alertsApi, monitoringApi, retrainApi } from './monitoring';
import { projectsApi } from './projects';
import { provenanceApi } from './provenance';
import { runnerPoolsApi } from './runnerPools';
import { runnersApi } from './runners';
import { runsApi } from './runs';
import { snapshotsApi } from './snapshots';
import { sweepsApi } from './sweeps';

export * from './auth';
export * from './datasets';
export * from './deployments';
export * from './errors';
export * from './events';
export * from './format';
export * from './health';
export * from './kubernetes';
export * from './models';
export * from './monitoring';
export * from './projects';
export * from './provenance';
export * from './refs';
export * from './route';
export * from './runnerPools';
export * from './runners';
export * from './runs';
export * from './snapshots';
export * from './sweeps';

/** Every REST route, by feature and operationId, in the order the server mounts them. */
export const api = {
  health: healthApi,
  auth: authApi,
  projects: projectsApi,
  runs: runsApi,
  snapshots: snapshotsApi,
  datasets: datasetsApi,
  provenance: provenanceApi,
  runners: runnersApi,
  runnerPools: runnerPoolsApi,
  models: modelsApi,
  deployments: deploymentsApi,
  kubernetes: kubernetesApi,
  monitoring: monitoringApi,
  alerts: alertsApi,
  retrain: retrainApi,
  sweeps: sweepsApi
} as const;

export type Api = typeof api;
