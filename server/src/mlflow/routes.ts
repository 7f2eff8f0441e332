/**
 * MLflow tracking REST API (`/api/2.0/mlflow/…`), what the official `mlflow` Python client
 * calls. Request schemas are loose (the client sends fields Runlab ignores, such as run_uuid)
 * but every field used is type-checked; int64 fields are accepted as numbers or strings (the
 * protobuf JSON mapping). Errors answer in MLflow's shape, `{ error_code, message }`. These
 * routes are not in /api/openapi.json: MLflow's REST reference describes them.
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { MetricStep, MetricTimestamp, type ErrorCode } from '../contract';
import { AppError, storageFull } from '../http/errors';
import { defineRoute, mountRoutes, type Authenticator, type Route } from '../http/registry';
import type { Logger } from '../logger';
import type { MlflowService } from './service';

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
  insufficient_storage: 'RESOURCE_EXHAUSTED'
};
/** MLflow answers "already exists" with 400, unlike Runlab's 409. */
const MLFLOW_STATUS: Partial<Record<ErrorCode, number>> = { conflict: 400 };

function mlflowRoutes(mlflow: MlflowService): Route[] {
  const post = <B extends z.ZodType>(path: string, operationId: string, body: B, handle: (body: z.output<B>) => unknown): Route =>
    defineRoute({
      operationId,
      method: 'post',
      path,
      summary: `MLflow ${path}`,
      tag: 'mlflow',
      scope: 'user',
      body,
      largeBody: true,
      status: 200,
      handle: ({ body: parsed }) => handle(parsed as z.output<B>) as never
    });
  const get = <Q extends z.ZodType>(path: string, operationId: string, query: Q, handle: (query: z.output<Q>) => unknown): Route =>
    defineRoute({
      operationId,
      method: 'get',
      path,
      summary: `MLflow ${path}`,
      tag: 'mlflow',
      scope: 'user',
      query,
      status: 200,
      handle: ({ query: parsed }) => handle(parsed as z.output<Q>) as never
    });

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
    post(
      '/runs/log-batch',
      'mlflowLogBatch',
      withRunId({
        metrics: z.array(Metric).optional().default([]),
        params: z.array(KeyValue).optional().default([]),
        tags: z.array(KeyValue).optional().default([])
      }),
      (body) => mlflow.logBatch(body.runId, { metrics: body.metrics, params: body.params, tags: body.tags })
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

export function mlflowRouter(
  mlflow: MlflowService,
  options: { authenticate: Authenticator; jsonBody: RequestHandler; logger: Logger }
): Router {
  const router = express.Router();
  mountRoutes(router, mlflowRoutes(mlflow), {
    authenticate: options.authenticate,
    jsonBody: options.jsonBody,
    largeJsonBody: options.jsonBody
  });
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
