/**
 * MLflow tracking REST API (`/api/2.0/mlflow/…`), what the official `mlflow` Python client
 * calls. Request schemas are loose (the client sends fields Runlab ignores, such as run_uuid)
 * but every field used is type-checked; int64 fields are accepted as numbers or strings (the
 * protobuf JSON mapping). Errors answer in MLflow's shape, `{ error_code, message }`. These
 * routes are not in /api/openapi.json: MLflow's REST reference describes them.
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { MetricStep, MetricTimestamp, type ErrorCode } from '../contract';
import { AppError, storageFull } from '../http/errors';
import { defineRoute, mountRoutes, RawReply, type Authenticator, type Route } from '../http/registry';
import { validatePart } from '../http/validate';
import type { Logger } from '../logger';
import type { MlflowArtifacts } from './artifacts';
import type { LoggedModels } from './loggedModels';
import type { MlflowRegistry } from './registry';
import { decodePageToken, encodePageToken, type MlflowService } from './service';

const Int64 = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number)
]);
/**
 * Steps and timestamps as Runlab keeps them: whole numbers from 0 to 2^53 - 1. MLflow's int64
 * strings beyond that (`"9223372036854775807"`) would not read back exactly, so they are refused.
 */
const Step = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number)
  ])
  .pipe(MetricStep);
const Timestamp = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number)
  ])
  .pipe(MetricTimestamp);
const Int32 = Int64.pipe(
  z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
);
const KeyValue = z.looseObject({ key: z.string(), value: z.string() });
const MetricValue = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const Metric = z.looseObject({
  model_id: z.string().optional(),
  key: z.string(),
  value: MetricValue,
  timestamp: Timestamp,
  step: Step.optional().default(0)
});
/** The run id: `run_id`, or the deprecated `run_uuid` older clients send. */
const withRunId = <T extends z.core.$ZodLooseShape>(shape: T) =>
  z
    .looseObject({ run_id: z.string().optional(), run_uuid: z.string().optional(), ...shape })
    .refine((value) => Boolean(value.run_id || value.run_uuid), { message: 'run_id is required', path: ['run_id'] })
    .transform((value) => ({ ...value, runId: (value.run_id || value.run_uuid) as string }));
/** GET list parameters arrive once (a string) or repeated (an array). */
const StringList = z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : [value]));

const MLFLOW_ERROR: Record<ErrorCode, string> = {
  invalid_json: 'MALFORMED_REQUEST',
  invalid_request: 'INVALID_PARAMETER_VALUE',
  unauthorized: 'UNAUTHENTICATED',
  forbidden: 'PERMISSION_DENIED',
  not_found: 'RESOURCE_DOES_NOT_EXIST',
  method_not_allowed: 'ENDPOINT_NOT_FOUND',
  conflict: 'RESOURCE_ALREADY_EXISTS',
  payload_too_large: 'INVALID_PARAMETER_VALUE',
  data_corrupt: 'DATA_LOSS',
  internal: 'INTERNAL_ERROR',
  insufficient_storage: 'RESOURCE_EXHAUSTED',
  unavailable: 'TEMPORARILY_UNAVAILABLE'
};
/** MLflow answers "already exists" with 400, unlike Runlab's 409. */
const MLFLOW_STATUS: Partial<Record<ErrorCode, number>> = { conflict: 400 };

type Handle<S extends z.ZodType> = (input: z.output<S>, actor: string) => unknown;
type Method = 'get' | 'post' | 'patch' | 'delete';

/** One MLflow endpoint: GET takes its fields from the query string, the others from a JSON body. */
function endpoint<S extends z.ZodType>(method: Method, path: string, operationId: string, schema: S, handle: Handle<S>): Route {
  const part = method === 'get' ? 'query' : 'body';
  return defineRoute({
    operationId,
    method,
    path,
    summary: `MLflow ${method.toUpperCase()} ${path}`,
    tag: 'mlflow',
    scope: 'user',
    ...(method === 'get' ? { query: z.looseObject({}) } : method === 'delete' ? {} : { body: z.looseObject({}), largeBody: true }),
    status: 200,
    handle: async ({ query, body, request, principal }) => {
      let given: unknown = method === 'get' ? query : body;
      if (method === 'delete') {
        // The client sends some DELETEs with a JSON body and others with none at all.
        await new Promise<void>((resolve, reject) =>
          deleteBody(request, request.res as Response, (error?: unknown) => (error ? reject(error) : resolve()))
        );
        given = request.body ?? {};
      }
      // Path parameters (`/logged-models/:model_id`) join the fields, as MLflow's handlers read them.
      const fields = { ...(given as Record<string, unknown>), ...request.params };
      return handle(validatePart(part, schema, fields) as z.output<S>, principal?.name ?? 'mlflow') as never;
    }
  });
}

/** DELETE bodies name what to delete: small. Parsed after authentication, inside the handler. */
const deleteBody = express.json({ limit: '1mb' });

function mlflowRoutes(mlflow: MlflowService): Route[] {
  const post = <B extends z.ZodType>(path: string, operationId: string, body: B, handle: Handle<B>): Route =>
    endpoint('post', path, operationId, body, handle);
  const get = <Q extends z.ZodType>(path: string, operationId: string, query: Q, handle: Handle<Q>): Route =>
    endpoint('get', path, operationId, query, handle);

  const searchExperiments = z.looseObject({
    max_results: Int32.optional().default(1000),
    filter: z.string().optional(),
    page_token: z.string().optional()
  });
  const doSearchExperiments = (query: z.output<typeof searchExperiments>) =>
    mlflow.searchExperiments({ filter: query.filter, maxResults: query.max_results, pageToken: query.page_token });

  const runsSearch = z.looseObject({
    experiment_ids: z.array(z.string()).optional().default([]),
    filter: z.string().optional(),
    max_results: Int32.optional().default(1000),
    order_by: z.array(z.string()).optional().default([]),
    page_token: z.string().optional()
  });

  return [
    post('/experiments/create', 'mlflowCreateExperiment', z.looseObject({ name: z.string().min(1) }), (body) =>
      mlflow.createExperiment(body.name)
    ),
    get('/experiments/get', 'mlflowGetExperiment', z.looseObject({ experiment_id: z.string().min(1) }), (query) =>
      mlflow.getExperiment(query.experiment_id)
    ),
    get('/experiments/get-by-name', 'mlflowGetExperimentByName', z.looseObject({ experiment_name: z.string().min(1) }), (query) =>
      mlflow.getExperimentByName(query.experiment_name)
    ),
    post('/experiments/search', 'mlflowSearchExperiments', searchExperiments, doSearchExperiments),
    get('/experiments/search', 'mlflowSearchExperimentsGet', searchExperiments, doSearchExperiments),
    post(
      '/runs/create',
      'mlflowCreateRun',
      z.looseObject({
        experiment_id: z.string().optional(),
        run_name: z.string().optional(),
        start_time: Int64.optional(),
        user_id: z.string().optional(),
        tags: z.array(KeyValue).optional().default([])
      }),
      (body) =>
        mlflow.createRun({
          experimentId: body.experiment_id,
          runName: body.run_name,
          startTime: body.start_time,
          tags: body.tags,
          userId: body.user_id
        })
    ),
    post(
      '/runs/update',
      'mlflowUpdateRun',
      withRunId({ status: z.string().optional(), end_time: Int64.optional(), run_name: z.string().optional() }),
      (body) => mlflow.updateRun({ runId: body.runId, status: body.status, endTime: body.end_time, runName: body.run_name })
    ),
    get('/runs/get', 'mlflowGetRun', withRunId({}), (query) => mlflow.getRun(query.runId)),
    post('/runs/search', 'mlflowSearchRuns', runsSearch, (body) =>
      mlflow.searchRuns({
        experimentIds: body.experiment_ids,
        filter: body.filter,
        maxResults: body.max_results,
        orderBy: body.order_by,
        pageToken: body.page_token
      })
    ),
    post('/runs/delete', 'mlflowDeleteRun', withRunId({}), (body) => mlflow.deleteRun(body.runId)),
    // MLflow 3 records the models a run logged; Runlab knows them from the logged models' source run.
    post(
      '/runs/outputs',
      'mlflowLogOutputs',
      withRunId({
        models: z
          .array(z.looseObject({ model_id: z.string() }))
          .optional()
          .default([])
      }),
      (body) => {
        mlflow.getRun(body.runId);
        return {};
      }
    ),
    post(
      '/runs/log-batch',
      'mlflowLogBatch',
      withRunId({
        metrics: z.array(Metric).optional().default([]),
        params: z.array(KeyValue).optional().default([]),
        tags: z.array(KeyValue).optional().default([])
      }),
      (body) =>
        mlflow.logBatch(body.runId, {
          // log_model re-sends the run's metrics tagged with the new model's id: copies Runlab
          // already has, which would count twice.
          metrics: body.metrics.filter((metric) => !metric.model_id),
          params: body.params,
          tags: body.tags
        })
    ),
    post(
      '/runs/log-metric',
      'mlflowLogMetric',
      withRunId({ key: z.string(), value: MetricValue, timestamp: Timestamp, step: Step.optional().default(0) }),
      (body) => mlflow.logBatch(body.runId, { metrics: [body], params: [], tags: [] })
    ),
    post('/runs/log-parameter', 'mlflowLogParam', withRunId({ key: z.string(), value: z.string() }), (body) =>
      mlflow.logBatch(body.runId, { metrics: [], params: [body], tags: [] })
    ),
    post('/runs/set-tag', 'mlflowSetTag', withRunId({ key: z.string(), value: z.string() }), (body) =>
      mlflow.logBatch(body.runId, { metrics: [], params: [], tags: [body] })
    ),
    post('/runs/delete-tag', 'mlflowDeleteTag', withRunId({ key: z.string() }), (body) => mlflow.deleteTag(body.runId, body.key)),
    get(
      '/metrics/get-history',
      'mlflowGetMetricHistory',
      withRunId({
        metric_key: z.string().min(1),
        max_results: Int32.optional().default(25000),
        page_token: z.string().optional()
      }),
      (query) => mlflow.history(query.runId, query.metric_key, Math.max(1, query.max_results), query.page_token)
    ),
    get(
      '/metrics/get-history-bulk-interval',
      'mlflowGetMetricHistoryBulkInterval',
      z.looseObject({
        run_ids: StringList,
        metric_key: z.string().min(1),
        start_step: Int64.optional(),
        end_step: Int64.optional(),
        max_results: Int32.optional().default(320)
      }),
      (query) =>
        mlflow.historyBulkInterval({
          runIds: query.run_ids,
          key: query.metric_key,
          startStep: query.start_step,
          endStep: query.end_step,
          maxResults: query.max_results
        })
    )
  ];
}

const Tags = z.array(KeyValue).optional().default([]);
/** Model versions travel as strings in MLflow's protobuf JSON; numbers are accepted too. */
const Version = z.union([z.string().min(1), z.number().int()]);

/** MLflow 3's logged models (`mlflow.<flavor>.log_model` creates one before uploading its files). */
function loggedModelRoutes(loggedModels: LoggedModels): Route[] {
  const ModelId = { model_id: z.string().min(1) };
  return [
    endpoint(
      'post',
      '/logged-models',
      'mlflowCreateLoggedModel',
      z.looseObject({
        experiment_id: z.string().min(1),
        name: z.string().optional(),
        model_type: z.string().optional(),
        source_run_id: z.string().optional(),
        params: Tags,
        tags: Tags
      }),
      (body, actor) =>
        loggedModels.create({
          experimentId: body.experiment_id,
          name: body.name,
          modelType: body.model_type,
          sourceRunId: body.source_run_id,
          params: body.params,
          tags: body.tags,
          actor
        })
    ),
    endpoint(
      'post',
      '/logged-models/search',
      'mlflowSearchLoggedModels',
      z.looseObject({
        experiment_ids: z.array(z.string()).optional().default([]),
        filter: z.string().optional(),
        max_results: Int32.optional().default(100),
        page_token: z.string().optional()
      }),
      (body) => {
        const offset = decodePageToken(body.page_token);
        const { models, more } = loggedModels.search({
          experimentIds: body.experiment_ids,
          filter: body.filter,
          maxResults: Math.max(1, body.max_results),
          offset
        });
        return { models, ...(more ? { next_page_token: encodePageToken(offset + models.length) } : {}) };
      }
    ),
    endpoint('get', '/logged-models/:model_id', 'mlflowGetLoggedModel', z.looseObject(ModelId), (query) =>
      loggedModels.get(query.model_id)
    ),
    endpoint('patch', '/logged-models/:model_id', 'mlflowFinalizeLoggedModel', z.looseObject({ ...ModelId, status: z.string() }), (body) =>
      loggedModels.finalize(body.model_id, body.status)
    ),
    endpoint('delete', '/logged-models/:model_id', 'mlflowDeleteLoggedModel', z.looseObject(ModelId), (body) =>
      loggedModels.delete(body.model_id)
    ),
    endpoint('patch', '/logged-models/:model_id/tags', 'mlflowSetLoggedModelTags', z.looseObject({ ...ModelId, tags: Tags }), (body) =>
      loggedModels.setTags(body.model_id, body.tags)
    ),
    endpoint(
      'delete',
      '/logged-models/:model_id/tags/:tag_key',
      'mlflowDeleteLoggedModelTag',
      z.looseObject({ ...ModelId, tag_key: z.string().min(1) }),
      (body) => loggedModels.deleteTag(body.model_id, body.tag_key)
    ),
    endpoint('post', '/logged-models/:model_id/params', 'mlflowLogLoggedModelParams', z.looseObject({ ...ModelId, params: Tags }), (body) =>
      loggedModels.logParams(body.model_id, body.params)
    )
  ];
}

/** MLflow's model registry (registered models, versions, aliases, tags) on Runlab's (registry.ts). */
function registryRoutes(registry: MlflowRegistry): Route[] {
  const Name = { name: z.string().min(1) };
  const NameVersion = { name: z.string().min(1), version: Version };
  const search = z.looseObject({
    filter: z.string().optional(),
    max_results: Int32.optional().default(100),
    order_by: StringList.optional().default([]),
    page_token: z.string().optional()
  });
  const searchInput = (query: z.output<typeof search>) => ({
    filter: query.filter,
    maxResults: Math.max(1, query.max_results),
    orderBy: query.order_by,
    pageToken: query.page_token
  });
  const latest = z.looseObject({ ...Name, stages: StringList.optional().default([]) });
  return [
    endpoint(
      'post',
      '/registered-models/create',
      'mlflowCreateRegisteredModel',
      z.looseObject({ ...Name, tags: Tags, description: z.string().optional() }),
      (body) => registry.createRegisteredModel(body)
    ),
    endpoint('get', '/registered-models/get', 'mlflowGetRegisteredModel', z.looseObject(Name), (query) =>
      registry.getRegisteredModel(query.name)
    ),
    endpoint(
      'post',
      '/registered-models/rename',
      'mlflowRenameRegisteredModel',
      z.looseObject({ ...Name, new_name: z.string().min(1) }),
      (body) => registry.renameRegisteredModel(body.name, body.new_name)
    ),
    endpoint(
      'patch',
      '/registered-models/update',
      'mlflowUpdateRegisteredModel',
      z.looseObject({ ...Name, description: z.string().optional() }),
      (body) => registry.updateRegisteredModel(body.name, body.description)
    ),
    endpoint('delete', '/registered-models/delete', 'mlflowDeleteRegisteredModel', z.looseObject(Name), (body) =>
      registry.deleteRegisteredModel(body.name)
    ),
    endpoint('get', '/registered-models/search', 'mlflowSearchRegisteredModels', search, (query) =>
      registry.searchRegisteredModels(searchInput(query))
    ),
    endpoint('post', '/registered-models/get-latest-versions', 'mlflowGetLatestVersions', latest, (body) =>
      registry.getLatestVersions(body.name, body.stages)
    ),
    endpoint('get', '/registered-models/get-latest-versions', 'mlflowGetLatestVersionsGet', latest, (query) =>
      registry.getLatestVersions(query.name, query.stages)
    ),
    endpoint(
      'post',
      '/registered-models/set-tag',
      'mlflowSetRegisteredModelTag',
      z.looseObject({ ...Name, key: z.string(), value: z.string() }),
      (body) => registry.setRegisteredModelTag(body.name, body.key, body.value)
    ),
    endpoint(
      'delete',
      '/registered-models/delete-tag',
      'mlflowDeleteRegisteredModelTag',
      z.looseObject({ ...Name, key: z.string() }),
      (body) => registry.deleteRegisteredModelTag(body.name, body.key)
    ),
    endpoint(
      'post',
      '/registered-models/alias',
      'mlflowSetRegisteredModelAlias',
      z.looseObject({ ...Name, alias: z.string().min(1), version: Version }),
      (body, actor) => registry.setAlias(body.name, body.alias, body.version, actor)
    ),
    endpoint(
      'delete',
      '/registered-models/alias',
      'mlflowDeleteRegisteredModelAlias',
      z.looseObject({ ...Name, alias: z.string().min(1) }),
      (body, actor) => registry.deleteAlias(body.name, body.alias, actor)
    ),
    endpoint(
      'get',
      '/registered-models/alias',
      'mlflowGetModelVersionByAlias',
      z.looseObject({ ...Name, alias: z.string().min(1) }),
      (query) => registry.getVersionByAlias(query.name, query.alias)
    ),
    endpoint(
      'post',
      '/model-versions/create',
      'mlflowCreateModelVersion',
      z.looseObject({
        ...Name,
        source: z.string().min(1),
        run_id: z.string().optional(),
        model_id: z.string().optional(),
        description: z.string().optional(),
        tags: Tags
      }),
      (body, actor) =>
        registry.createModelVersion(
          {
            name: body.name,
            source: body.source,
            runId: body.run_id,
            modelId: body.model_id,
            description: body.description,
            tags: body.tags
          },
          actor
        )
    ),
    endpoint('get', '/model-versions/get', 'mlflowGetModelVersion', z.looseObject(NameVersion), (query) =>
      registry.getModelVersion(query.name, query.version)
    ),
    endpoint(
      'patch',
      '/model-versions/update',
      'mlflowUpdateModelVersion',
      z.looseObject({ ...NameVersion, description: z.string().optional() }),
      (body) => registry.updateModelVersion(body.name, body.version, body.description)
    ),
    endpoint('delete', '/model-versions/delete', 'mlflowDeleteModelVersion', z.looseObject(NameVersion), (body) =>
      registry.deleteModelVersion(body.name, body.version)
    ),
    endpoint('post', '/model-versions/transition-stage', 'mlflowTransitionModelVersionStage', z.looseObject(NameVersion), (body) =>
      registry.transitionStage(body.name, body.version)
    ),
    endpoint('get', '/model-versions/search', 'mlflowSearchModelVersions', search, (query) =>
      registry.searchModelVersions(searchInput(query))
    ),
    endpoint('get', '/model-versions/get-download-uri', 'mlflowGetModelVersionDownloadUri', z.looseObject(NameVersion), (query) =>
      registry.getDownloadUri(query.name, query.version)
    ),
    endpoint(
      'post',
      '/model-versions/set-tag',
      'mlflowSetModelVersionTag',
      z.looseObject({ ...NameVersion, key: z.string(), value: z.string() }),
      (body) => registry.setModelVersionTag(body.name, body.version, body.key, body.value)
    ),
    endpoint(
      'delete',
      '/model-versions/delete-tag',
      'mlflowDeleteModelVersionTag',
      z.looseObject({ ...NameVersion, key: z.string() }),
      (body) => registry.deleteModelVersionTag(body.name, body.version, body.key)
    )
  ];
}

export interface MlflowRouterOptions {
  authenticate: Authenticator;
  jsonBody: RequestHandler;
  logger: Logger;
}

/** The tracking, logged-model and registry APIs (`/api/2.0/mlflow`). */
export function mlflowRouter(
  apis: { mlflow: MlflowService; loggedModels: LoggedModels; registry: MlflowRegistry },
  options: MlflowRouterOptions
): Router {
  const router = express.Router();
  mountRoutes(router, [...mlflowRoutes(apis.mlflow), ...loggedModelRoutes(apis.loggedModels), ...registryRoutes(apis.registry)], {
    authenticate: options.authenticate,
    jsonBody: options.jsonBody,
    largeJsonBody: options.jsonBody
  });
  return withMlflowErrors(router, options.logger);
}

/**
 * MLflow's proxied artifact store (`/api/2.0/mlflow-artifacts`): PUT and GET
 * `/artifacts/<path>`, and `GET /artifacts?path=` to list a folder (see artifacts.ts).
 */
export function mlflowArtifactsRouter(artifacts: MlflowArtifacts, options: MlflowRouterOptions): Router {
  const router = express.Router();
  const route = (method: 'get' | 'put', path: string, operationId: string, handle: Route['handle'], extra: object = {}): Route =>
    defineRoute({
      operationId,
      method,
      path,
      summary: `MLflow artifacts ${method.toUpperCase()} ${path}`,
      tag: 'mlflow',
      scope: 'user',
      status: 200,
      ...extra,
      handle
    } as never);
  const pathOf = (request: { params: Record<string, unknown> }): string => {
    const segments = request.params.path;
    return Array.isArray(segments) ? segments.join('/') : String(segments ?? '');
  };
  mountRoutes(
    router,
    [
      route('get', '/artifacts', 'mlflowListArtifacts', ({ request }) => {
        const path = request.query.path;
        return artifacts.list(typeof path === 'string' ? path : '');
      }),
      route('get', '/artifacts/*path', 'mlflowDownloadArtifact', ({ request }) => {
        const { stream, size } = artifacts.open(pathOf(request));
        return new RawReply(stream, 'application/octet-stream', size);
      }),
      route('put', '/artifacts/*path', 'mlflowUploadArtifact', ({ request }) => artifacts.put(pathOf(request), request), {
        rawBody: { description: 'The file content' }
      })
    ],
    { authenticate: options.authenticate, jsonBody: options.jsonBody, largeJsonBody: options.jsonBody }
  );
  return withMlflowErrors(router, options.logger);
}

/**
 * `GET /api/3.0/mlflow/server-info`: what the client asks before large transfers. Runlab's
 * artifact proxy streams whole files, with no multipart or presigned URLs.
 */
export function mlflowServerInfoRouter(): Router {
  const router = express.Router();
  router.get('/server-info', (_req, res) => {
    res.json({ store_type: 'SqlStore', workspaces_enabled: false, multipart_uploads_enabled: false, multipart_downloads_enabled: false });
  });
  return router;
}

/** Unknown endpoints and every error answer in MLflow's shape, `{ error_code, message }`. */
function withMlflowErrors(router: Router, logger: Logger): Router {
  const options = { logger };
  router.use((req, _res, next) => {
    next(new AppError('not_found', `This server does not implement MLflow endpoint ${req.method} ${req.baseUrl}${req.path}`));
  });
  const mlflowErrors: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const typed = error as { type?: string; status?: number; message?: string };
    let code: ErrorCode;
    let message: string;
    if (error instanceof AppError) {
      code = error.code;
      message = error.details?.length
        ? `${error.message}${error.details.length > 1 ? `: ${error.details.map((detail) => `${detail.path}: ${detail.message}`).join('; ')}` : ''}`
        : error.message;
    } else if (typed?.type === 'entity.parse.failed') {
      code = 'invalid_json';
      message = `Malformed JSON body: ${typed.message ?? 'parse error'}`;
    } else if (typed?.type === 'entity.too.large') {
      code = 'payload_too_large';
      message = 'Request body too large';
    } else if (storageFull(error)) {
      ((req as { log?: Logger }).log ?? options.logger).error({ err: error }, 'out of disk space');
      ({ code, message } = storageFull(error) as AppError);
    } else {
      ((req as { log?: Logger }).log ?? options.logger).error({ err: error }, 'unhandled error');
      code = 'internal';
      message = 'Internal server error; the server log has details';
    }
    const notFoundEndpoint = code === 'not_found' && message.startsWith('This server does not implement');
    res
      .status(MLFLOW_STATUS[code] ?? new AppError(code, message).status)
      .json({ error_code: notFoundEndpoint ? 'ENDPOINT_NOT_FOUND' : MLFLOW_ERROR[code], message });
  };
  router.use(mlflowErrors);
  return router;
}
