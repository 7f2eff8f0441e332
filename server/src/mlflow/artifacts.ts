/**
 * MLflow's proxied artifact store (`/api/2.0/mlflow-artifacts/artifacts/<path>`), what the client
 * uses for `mlflow-artifacts:/…` URIs. Runlab hands out three kinds of them, all stored in its
 * content-addressed blob store:
 *
 *   runs/<run id>/<path>             a run's artifacts (they show on the run in Runlab)
 *   logged-models/<model id>/<path>  an MLflow 3 logged model's files (mlflow.*.log_model)
 *   model-versions/<version id>/…    a registry version's files, read-only (what load_model downloads)
 */
import type { Readable } from 'node:stream';
import { relativePathProblem } from '../contract/refs';
import { AppError, notFound } from '../http/errors';
import type { ModelService } from '../models/service';
import type { RunService } from '../runs/service';
import type { LoggedModels } from './loggedModels';

export const runArtifactUri = (runId: string): string => `mlflow-artifacts:/runs/${runId}`;
export const versionArtifactUri = (versionId: string, folder = ''): string =>
  `mlflow-artifacts:/model-versions/${versionId}${folder ? `/${folder}` : ''}`;

type Place = { kind: 'runs' | 'logged-models' | 'model-versions'; id: string; path: string };

const KINDS = new Set(['runs', 'logged-models', 'model-versions']);
const WHAT_IS_SERVED = 'this server serves runs/<run id>/…, logged-models/<model id>/… and model-versions/<version id>/…';

export interface FileListing {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** Splits `runs/<id>/a/b` into its place; `requireFile` also wants a file path inside it. */
export function parseArtifactPath(raw: string, requireFile: boolean): Place {
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  const [kind, id, ...rest] = trimmed.split('/');
  if (!KINDS.has(kind) || !id) throw notFound(`Artifact path '${raw}': ${WHAT_IS_SERVED}`);
  const path = rest.join('/');
  if (path || requireFile) {
    const problem = relativePathProblem(path);
    if (problem) throw new AppError('invalid_request', `Invalid artifact path '${raw}': ${problem}`);
  }
  return { kind: kind as Place['kind'], id, path };
}

export class MlflowArtifacts {
  constructor(
    private readonly runs: RunService,
    private readonly loggedModels: LoggedModels,
    private readonly models: ModelService
  ) {}

  async put(rawPath: string, body: Readable): Promise<Record<string, never>> {
    const place = parseArtifactPath(rawPath, true);
    if (place.kind === 'runs') {
      await this.runs.putArtifact(place.id, place.path, body);
    } else if (place.kind === 'logged-models') {
      await this.loggedModels.putFile(place.id, place.path, body);
    } else {
      throw new AppError(
        'invalid_request',
        `Model version ${place.id} is immutable: its files cannot be written. Log a new version instead`
      );
    }
    return {};
  }

  open(rawPath: string): { stream: Readable; size: number } {
    const place = parseArtifactPath(rawPath, true);
    if (place.kind === 'runs') {
      const { artifact, body } = this.runs.openArtifact(place.id, place.path);
      return { stream: body, size: artifact.size };
    }
    if (place.kind === 'logged-models') return this.loggedModels.openFile(place.id, place.path);
    return this.models.openFile(place.id, place.path);
  }

  /**
   * The direct children of a folder (basenames, folders marked `is_dir`), as MLflow's server
   * answers; a file or an unknown folder lists as empty.
   */
  list(rawPath: string): { files: FileListing[] } {
    const place = parseArtifactPath(rawPath, false);
    const files =
      place.kind === 'runs'
        ? this.runs.get(place.id).artifacts
        : place.kind === 'logged-models'
          ? this.loggedModels.files(place.id)
          : this.models.versionById(place.id).files;
    return { files: childrenOf(files, place.path) };
  }
}

export function childrenOf(files: readonly { path: string; size: number }[], folder: string): FileListing[] {
  const prefix = folder ? `${folder}/` : '';
  const children = new Map<string, FileListing>();
  for (const file of files) {
    if (!file.path.startsWith(prefix)) continue;
    const [name, ...deeper] = file.path.slice(prefix.length).split('/');
    if (deeper.length > 0) children.set(name, { path: name, is_dir: true });
    else if (!children.has(name)) children.set(name, { path: name, is_dir: false, file_size: file.size });
  }
  return [...children.values()].sort((a, b) => a.path.localeCompare(b.path));
}
