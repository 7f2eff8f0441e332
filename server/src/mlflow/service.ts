/**
 * MLflow tracking semantics on top of Runlab: an experiment is a project (experiment "0", the
 * MLflow client's default, is the project named "Default", created on demand), an MLflow run is
 * a Runlab run. Everything goes through the runs and projects services, so MLflow runs show up
 * in Runlab lists and live views, and Runlab runs are visible to MLflow.
 */
import {
  CreateRunRequest,
  LogKey,
  ParamValue,
  TagValue,
  userKeyed,
  type MetricValue,
  type Project,
  type Run,
  type RunStatus
} from '../contract';
import { AppError, notFound } from '../http/errors';
import type { ProjectService } from '../projects/service';
import { parseNumber, type FilterOperator, type RunFilter, type RunSort } from '../runs/filters';
import type { RunService } from '../runs/service';
import { runArtifactUri } from './artifacts';

export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';
/** MLflow keeps the run name in this tag; Runlab keeps it as the run's name. */
const RUN_NAME_TAG = 'mlflow.runName';

export interface MlflowKeyValue {
  key: string;
  value: string;
}
export interface MlflowMetric {
  key: string;
  value: MetricValue;
  timestamp: number;
  step: number;
}

const STATUS_TO_MLFLOW: Record<RunStatus, string> = {
  running: 'RUNNING',
  finished: 'FINISHED',
  failed: 'FAILED',
  killed: 'KILLED'
};
const STATUS_FROM_MLFLOW: Record<string, RunStatus> = {
  RUNNING: 'running',
  SCHEDULED: 'running',
  FINISHED: 'finished',
  FAILED: 'failed',
  KILLED: 'killed'
};

const invalid = (message: string): AppError => new AppError('invalid_request', message);
const ms = (iso: string | null): number | undefined => (iso === null ? undefined : Date.parse(iso));

function checked<T>(schema: { safeParse(value: unknown): { success: boolean; data?: T } }, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(`Invalid ${what}: ${JSON.stringify(value)}`);
  return result.data as T;
}

export class MlflowService {
  constructor(
    private readonly runs: RunService,
    private readonly projects: ProjectService,
    /** The MLflow 3 logged models a run produced (its `outputs`); none without logged models. */
    private readonly modelOutputs: (runId: string) => { model_id: string; step: number }[] = () => []
  ) {}

  // ------------------------------------------------------------------------------------------
  // experiments

  experimentIdOf(project: { id: string; name: string }): string {
    return project.name === DEFAULT_EXPERIMENT_NAME ? DEFAULT_EXPERIMENT_ID : project.id;
  }

  private async projectOf(experimentId: string): Promise<{ id: string; name: string }> {
    if (experimentId === DEFAULT_EXPERIMENT_ID) return this.projects.ensure(DEFAULT_EXPERIMENT_NAME);
    return this.projects.get(experimentId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'not_found') throw notFound(`Experiment with id '${experimentId}'`);
      throw error;
    });
  }

  private toExperiment(project: Project): Record<string, unknown> {
    const experimentId = this.experimentIdOf(project);
    return {
      experiment_id: experimentId,
      name: project.name,
      // Runs carry their own artifact_uri; nothing is stored under the experiment's location itself.
      artifact_location: `mlflow-artifacts:/experiments/${experimentId}`,
      lifecycle_stage: 'active',
      creation_time: Date.parse(project.createdAt),
      last_update_time: Date.parse(project.updatedAt),
      tags: project.description ? [{ key: 'mlflow.note.content', value: project.description }] : []
    };
  }

  async createExperiment(name: string): Promise<{ experiment_id: string }> {
    try {
      const project = await this.projects.create({ name, description: '' });
      return { experiment_id: this.experimentIdOf(project) };
    } catch (error) {
      if (error instanceof AppError && error.code === 'conflict') {
        throw new AppError('conflict', `Experiment '${name}' already exists.`);
      }
      throw error;
    }
  }

  async getExperiment(experimentId: string): Promise<{ experiment: Record<string, unknown> }> {
    const { id } = await this.projectOf(experimentId);
    return { experiment: this.toExperiment(await this.projects.get(id)) };
  }

  async getExperimentByName(name: string): Promise<{ experiment: Record<string, unknown> }> {
    if (name === DEFAULT_EXPERIMENT_NAME) await this.projects.ensure(name);
    const [project] = await this.projects.list({ name });
    if (!project) throw notFound(`Experiment '${name}'`);
    return { experiment: this.toExperiment(project) };
  }

  /** Filters `name = '…'`, `name != '…'` and `name LIKE '…'` (with % and _), the ones UIs use. */
  async searchExperiments(query: { filter?: string; maxResults: number; pageToken?: string }) {
    await this.projects.ensure(DEFAULT_EXPERIMENT_NAME);
    let projects = await this.projects.list();
    if (query.filter?.trim()) {
      const match = /^\s*(?:attributes\.|attribute\.)?name\s*(=|!=|LIKE|ILIKE)\s*(['"])(.*)\2\s*$/i.exec(query.filter);
      if (!match) throw invalid(`Unsupported experiment filter '${query.filter}'; use name = '…' or name LIKE '…'`);
      const [, operator, , value] = match;
      const upper = operator.toUpperCase();
      const like = new RegExp(
        `^${value
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')
          .replace(/_/g, '.')}$`,
        upper === 'ILIKE' ? 'i' : ''
      );
      projects = projects.filter((project) =>
        upper === '=' ? project.name === value : upper === '!=' ? project.name !== value : like.test(project.name)
      );
    }
    const offset = decodePageToken(query.pageToken);
    const page = projects.slice(offset, offset + query.maxResults);
    return {
      experiments: page.map((project) => this.toExperiment(project)),
      ...(offset + page.length < projects.length ? { next_page_token: encodePageToken(offset + page.length) } : {})
    };
  }

  // ------------------------------------------------------------------------------------------
  // runs

  toMlflowRun(run: Run): Record<string, unknown> {
    const tags = Object.entries(run.tags).map(([key, value]) => ({ key, value }));
    tags.push({ key: RUN_NAME_TAG, value: run.name });
    return {
      info: this.toRunInfo(run),
      data: {
        metrics: Object.entries(run.metrics).map(([key, summary]) => ({
          key,
          value: summary.latest,
          timestamp: Date.parse(summary.updatedAt),
          step: summary.step
        })),
        params: Object.entries(run.params).map(([key, value]) => ({ key, value })),
        tags
      },
      inputs: { dataset_inputs: [] },
      outputs: { model_outputs: this.modelOutputs(run.id) }
    };
  }

  private toRunInfo(run: Run): Record<string, unknown> {
    return {
      run_id: run.id,
      run_uuid: run.id,
      run_name: run.name,
      experiment_id: this.experimentIdOf({ id: run.projectId, name: run.projectName }),
      user_id: run.tags['mlflow.user'] ?? '',
      status: STATUS_TO_MLFLOW[run.status],
      start_time: ms(run.startedAt),
      ...(run.endedAt ? { end_time: ms(run.endedAt) } : {}),
      // Served by the artifact proxy (artifacts.ts): mlflow.log_artifact lands on the Runlab run.
      artifact_uri: runArtifactUri(run.id),
      lifecycle_stage: 'active'
    };
  }

  async createRun(input: {
    experimentId?: string;
    runName?: string;
    startTime?: number;
    tags: MlflowKeyValue[];
    userId?: string;
  }): Promise<{ run: Record<string, unknown> }> {
    const project = await this.projectOf(input.experimentId || DEFAULT_EXPERIMENT_ID);
    const tags = userKeyed<string>();
    for (const { key, value } of input.tags) tags[key] = value;
    const name = input.runName || tags[RUN_NAME_TAG];
    delete tags[RUN_NAME_TAG];
    if (input.userId && tags['mlflow.user'] === undefined) tags['mlflow.user'] = input.userId;
    const request = CreateRunRequest.safeParse({
      project: project.name,
      ...(name ? { name } : {}),
      tags,
      source: { kind: 'mlflow', cell: null },
      ...(input.startTime !== undefined ? { startedAt: new Date(input.startTime).toISOString() } : {})
    });
    if (!request.success) {
      throw invalid(`Invalid run: ${request.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    return { run: this.toMlflowRun(await this.runs.create(request.data)) };
  }

  updateRun(input: { runId: string; status?: string; endTime?: number; runName?: string }): { run_info: Record<string, unknown> } {
    let status: RunStatus | undefined;
    if (input.status !== undefined) {
      status = STATUS_FROM_MLFLOW[input.status];
      if (!status) throw invalid(`Invalid run status '${input.status}'`);
    }
    const run = this.runs.update(input.runId, {
      ...(input.runName ? { name: input.runName } : {}),
      ...(status ? { status } : {}),
      ...(input.endTime !== undefined && status !== 'running' ? { endedAt: new Date(input.endTime).toISOString() } : {})
    });
    return { run_info: this.toRunInfo(run) };
  }

  getRun(runId: string): { run: Record<string, unknown> } {
    return { run: this.toMlflowRun(this.runs.get(runId)) };
  }

  /** MLflow deletes softly; Runlab deletes the run for good. */
  deleteRun(runId: string): Record<string, never> {
    this.runs.delete(runId);
    return {};
  }

  async searchRuns(input: {
    experimentIds: string[];
    filter?: string;
    maxResults: number;
    orderBy: string[];
    pageToken?: string;
  }): Promise<{ runs: Record<string, unknown>[]; next_page_token?: string }> {
    const projectIds = await Promise.all(input.experimentIds.map(async (id) => (await this.projectOf(id)).id));
    const { filters, status, name } = parseMlflowFilter(input.filter ?? '');
    const offset = decodePageToken(input.pageToken);
    const { runs, total } = this.runs.search({
      projectIds,
      filters,
      status,
      name,
      sort: parseMlflowOrder(input.orderBy),
      limit: input.maxResults,
      offset
    });
    return {
      runs: runs.map((run) => this.toMlflowRun(run)),
      ...(offset + runs.length < total ? { next_page_token: encodePageToken(offset + runs.length) } : {})
    };
  }

  /**
   * Params, tags and metrics in one call. `mlflow.runName` renames the run. A param already
   * logged with another value is INVALID_PARAMETER_VALUE, as in MLflow.
   */
  logBatch(runId: string, input: { metrics: MlflowMetric[]; params: MlflowKeyValue[]; tags: MlflowKeyValue[] }): Record<string, never> {
    const params = userKeyed<string>();
    for (const { key, value } of input.params) {
      checked(LogKey, key, 'param key');
      checked(ParamValue, value, `value of param '${key}'`);
      if (params[key] !== undefined && params[key] !== value) throw invalid(`Duplicate param '${key}' with different values in one batch`);
      params[key] = value;
    }
    const tags = userKeyed<string>();
    let rename: string | undefined;
    for (const { key, value } of input.tags) {
      checked(LogKey, key, 'tag key');
      checked(TagValue, value, `value of tag '${key}'`);
      if (key === RUN_NAME_TAG) rename = value;
      else tags[key] = value;
    }
    // NaN and ±Infinity arrive as strings (protobuf JSON) and are stored like any value.
    const metrics = input.metrics.map(({ key, value, timestamp, step }) => {
      checked(LogKey, key, 'metric key');
      return { key, value, timestamp, step };
    });
    try {
      this.runs.log(runId, { params, tags, metrics, inputs: [], outputs: [] });
    } catch (error) {
      // MLflow reports a changed param as an invalid value, not a conflict.
      if (error instanceof AppError && error.code === 'conflict') throw invalid(error.message);
      throw error;
    }
    if (rename) this.runs.update(runId, { name: rename });
    return {};
  }

  deleteTag(runId: string, key: string): Record<string, never> {
    this.runs.deleteTag(runId, key);
    return {};
  }

  /** Every point of a key, paged like MLflow (page tokens are offsets). */
  history(runId: string, key: string, maxResults: number, pageToken?: string) {
    const points = this.runs.points(runId, key);
    const offset = decodePageToken(pageToken);
    const page = points.slice(offset, offset + maxResults);
    return {
      metrics: page.map((point) => ({ key, value: point.value, timestamp: point.timestamp, step: point.step })),
      ...(offset + page.length < points.length ? { next_page_token: encodePageToken(offset + page.length) } : {})
    };
  }

  /** Downsampled points of one key for several runs (the MLflow UI's charts). */
  historyBulkInterval(input: { runIds: string[]; key: string; startStep?: number; endStep?: number; maxResults: number }) {
    const metrics = input.runIds.flatMap((runId) => {
      try {
        return this.runs
          .history(runId, input.key, { maxPoints: Math.max(2, input.maxResults), minStep: input.startStep, maxStep: input.endStep })
          .points.map((point) => ({ key: input.key, value: point.value, timestamp: point.timestamp, step: point.step, run_id: runId }));
      } catch (error) {
        // A run without the metric simply has no points, as in MLflow.
        if (error instanceof AppError && error.code === 'not_found' && error.message.startsWith('Metric')) return [];
        throw error;
      }
    });
    return { metrics };
  }
}

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw invalid(`Invalid page token '${token}'`);
}

const CLAUSE =
  /^\s*(metrics?|params?|tags?|attributes?|attr|run)\.(`[^`]+`|"[^"]+"|[\w\-./: ]+?)\s*(!=|>=|<=|=|>|<|\bLIKE\b|\bILIKE\b|\bIN\b)\s*(.+?)\s*$/i;

/** The subset of MLflow's search syntax Runlab answers: AND-ed comparisons on metrics, params, tags, status and name. */
export function parseMlflowFilter(filter: string): { filters: RunFilter[]; status?: RunStatus; name?: string } {
  const result: { filters: RunFilter[]; status?: RunStatus; name?: string } = { filters: [] };
  if (!filter.trim()) return result;
  for (const clause of filter.split(/\s+AND\s+/i)) {
    const match = CLAUSE.exec(clause);
    if (!match) throw invalid(`Unsupported filter clause '${clause.trim()}'`);
    const [, rawEntity, rawKey, rawOperator, rawValue] = match;
    const entity = rawEntity.toLowerCase();
    const key = rawKey.replace(/^[`"]|[`"]$/g, '');
    const operator = rawOperator.toUpperCase();
    if (operator === 'LIKE' || operator === 'ILIKE' || operator === 'IN') {
      throw invalid(`Filter operator ${operator} is not supported by this server`);
    }
    const value = rawValue.replace(/^(['"])(.*)\1$/s, '$2');
    if (entity.startsWith('attr') || entity === 'run' || (entity.startsWith('tag') && key === RUN_NAME_TAG)) {
      if (operator !== '=') throw invalid(`Only = is supported on ${key}`);
      if (key === 'status') {
        const status = STATUS_FROM_MLFLOW[value];
        if (!status) throw invalid(`Invalid run status '${value}'`);
        result.status = status;
      } else if (key === 'run_name' || key === RUN_NAME_TAG) {
        result.name = value;
      } else if (key === 'run_id') {
        throw invalid('Filtering on run_id is not supported by this server');
      } else {
        throw invalid(`Unsupported attribute '${key}'`);
      }
      continue;
    }
    const field = entity.startsWith('metric') ? 'metrics' : entity.startsWith('param') ? 'params' : 'tags';
    const number = parseNumber(value);
    if (field === 'metrics' && number === null) throw invalid(`Metric filters compare with numbers; '${value}' is not one`);
    result.filters.push({ field, key, operator: operator as FilterOperator, value, number });
  }
  return result;
}

/** The first `order_by` entry (`metrics.acc DESC`, `attributes.start_time`); start time, newest first, by default. */
export function parseMlflowOrder(orderBy: string[]): RunSort {
  const [first] = orderBy;
  if (!first) return { by: 'startedAt', direction: 'desc' };
  const match = /^\s*(?:(metrics?|params?|attributes?|attr|tags?)\.)?(`[^`]+`|"[^"]+"|[\w\-./: ]+?)(?:\s+(ASC|DESC))?\s*$/i.exec(first);
  if (!match) throw invalid(`Unsupported order_by '${first}'`);
  const entity = (match[1] ?? 'attributes').toLowerCase();
  const key = match[2].replace(/^[`"]|[`"]$/g, '');
  const direction = (match[3] ?? 'ASC').toLowerCase() as 'asc' | 'desc';
  if (entity.startsWith('metric')) return { by: 'metrics', key, direction };
  if (entity.startsWith('param')) return { by: 'params', key, direction };
  if (key === 'start_time' || key === 'created') return { by: 'startedAt', direction };
  if (key === 'run_name' || key === RUN_NAME_TAG) return { by: 'name', direction };
  if (key === 'status') return { by: 'status', direction };
  throw invalid(`Unsupported order_by '${first}'`);
}
