/**
 * Composes the MLflow-compatible APIs from Runlab's services: tracking (`/api/2.0/mlflow`), MLflow
 * 3's logged models, the model registry, the proxied artifact store (`/api/2.0/mlflow-artifacts`)
 * and `/api/3.0/mlflow/server-info`. app.ts mounts the routers this returns.
 */
import type { Router } from 'express';
import type { BlobStore } from '../blobs/store';
import type { Database } from '../db/database';
import type { ModelService } from '../models/service';
import type { ProjectService } from '../projects/service';
import type { RunService } from '../runs/service';
import { MlflowArtifacts } from './artifacts';
import { LoggedModelStore } from './loggedModelStore';
import { LoggedModels } from './loggedModels';
import { MlflowRegistry } from './registry';
import { mlflowArtifactsRouter, mlflowRouter, mlflowServerInfoRouter, type MlflowRouterOptions } from './routes';
import { MlflowService } from './service';

export interface MlflowDeps {
  db: Database;
  runs: RunService;
  projects: ProjectService;
  models: ModelService;
  blobs: BlobStore;
  maxArtifactBytes: number;
}

export function mlflowRouters(deps: MlflowDeps, options: MlflowRouterOptions): { api: Router; artifacts: Router; serverInfo: Router } {
  const loggedModelStore = new LoggedModelStore(deps.db);
  // The two refer to each other (a run's outputs are its logged models; a logged model's experiment must exist).
  const tracking: MlflowService = new MlflowService(deps.runs, deps.projects, (runId) => loggedModels.outputsOfRun(runId));
  const loggedModels: LoggedModels = new LoggedModels({
    db: deps.db,
    store: loggedModelStore,
    blobs: deps.blobs,
    runs: deps.runs,
    maxArtifactBytes: deps.maxArtifactBytes,
    checkExperiment: (experimentId) => tracking.getExperiment(experimentId)
  });
  const registry = new MlflowRegistry({ models: deps.models, runs: deps.runs, blobs: deps.blobs, loggedModels, loggedModelStore });
  return {
    api: mlflowRouter({ mlflow: tracking, loggedModels, registry }, options),
    artifacts: mlflowArtifactsRouter(new MlflowArtifacts(deps.runs, loggedModels, deps.models), options),
    serverInfo: mlflowServerInfoRouter()
  };
}
