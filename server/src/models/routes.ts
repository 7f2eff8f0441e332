import { modelsApi } from '../contract';
import { implement, RawReply, type Principal, type Route } from '../http/registry';
import type { ModelService } from './service';

/** Who a change is recorded as: the name of the token that made it. */
const actorOf = (principal: Principal | null): string => principal?.name ?? 'unknown';

export function modelRoutes(models: ModelService): Route[] {
  return implement(modelsApi, {
    listModels: ({ query }) => ({ models: models.listModels(query) }),
    createModel: ({ body }) => models.createModel(body),
    getModel: ({ params }) => models.getModel(params.name),
    updateModel: ({ params, body }) => models.updateModel(params.name, body),
    deleteModel: ({ params, log }) => {
      models.deleteModel(params.name);
      log.info({ model: params.name }, 'model deleted');
      return undefined;
    },
    listModelVersions: ({ params }) => ({ versions: models.listVersions(params.name) }),
    createModelVersion: ({ params, body, principal }) => models.createVersion(params.name, body, actorOf(principal)),
    getModelVersion: ({ params }) => models.getVersion(params.name, params.version),
    updateModelVersion: ({ params, body }) => models.updateVersion(params.name, params.version, body),
    getModelVersionProfile: ({ params }) => models.profile(params.name, params.version),
    downloadModelFile: ({ params, query }) => {
      const { stream, size } = models.openVersionFile(params.name, params.version, query.path);
      return new RawReply(stream, 'application/octet-stream', size);
    },
    setModelAlias: ({ params, body, principal }) => models.setAlias(params.name, params.alias, body, actorOf(principal)),
    deleteModelAlias: ({ params, query, principal }) => models.deleteAlias(params.name, params.alias, query.reason, actorOf(principal)),
    rollbackModelAlias: ({ params, body, principal }) => models.rollbackAlias(params.name, params.alias, body.reason, actorOf(principal)),
    getAliasHistory: ({ params, query }) => ({ moves: models.aliasHistory(params.name, query) })
  });
}
