/**
 * Snapshots: the notebook (as the user sees it, unsaved edits included) and the local modules
 * its kernel imported, committed to the project's repository and pinned to the run. A run has
 * at most one snapshot; an unchanged notebook reuses the head commit.
 */
import type { z } from 'zod';
import type { CreateSnapshotRequest, FieldProblem, RunSnapshot, SnapshotNotebookResponse } from '../contract';
import { AppError, notFound } from '../http/errors';
import type { RunService } from '../runs/service';
import { serializeNotebook, stripNotebook } from './notebook';
import type { SnapshotStore } from './store';

export type CreateSnapshotInput = z.output<typeof CreateSnapshotRequest>;

const invalid = (problems: FieldProblem[]): AppError =>
  new AppError('invalid_request', `Invalid request: ${problems[0].path}: ${problems[0].message}`, problems);

export class SnapshotService {
  /** Per project, the tail of the chain of commits in progress: commits to one repo run one at a time. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly runs: RunService,
    private readonly store: SnapshotStore,
    private readonly keepOutputs: boolean
  ) {}

  async create(runId: string, input: CreateSnapshotInput): Promise<RunSnapshot> {
    const run = this.runs.record(runId);
    // Modules sent with the run's creation join the snapshot; files sent now win on the same path.
    const sentPaths = new Set(input.files.map((file) => file.path));
    const pending = this.runs.pendingModuleFiles(runId).filter((file) => !sentPaths.has(file.path) && file.path !== input.notebookPath);
    const files = this.filesOf({ ...input, files: [...input.files, ...pending] });
    return this.serialised(run.projectId, async () => {
      // Checked inside the queue, so two racing requests cannot both commit.
      if (this.runs.record(runId).snapshot) throw this.alreadySnapshotted(runId);
      const message = `Snapshot of ${input.notebookPath} for run ${run.name} (${run.id})\n`;
      const { commit, reused } = await this.store.commit(run.projectId, files, message);
      const snapshot: RunSnapshot = { commit, notebookPath: input.notebookPath, files: [...files.keys()].sort(), reused };
      if (!this.runs.setSnapshot(runId, snapshot)) throw this.alreadySnapshotted(runId);
      return snapshot;
    });
  }

  async notebook(runId: string): Promise<SnapshotNotebookResponse> {
    const { snapshot } = this.runs.record(runId);
    if (!snapshot) throw notFound(`Snapshot of run ${runId}`);
    const content = await this.store.read(this.runs.record(runId).projectId, snapshot.commit, snapshot.notebookPath);
    if (!content) throw notFound(`${snapshot.notebookPath} in commit ${snapshot.commit}`);
    let notebook: unknown;
    try {
      notebook = JSON.parse(content.toString('utf8'));
    } catch {
      notebook = undefined;
    }
    if (typeof notebook !== 'object' || notebook === null || Array.isArray(notebook)) {
      throw notFound(`Notebook in the snapshot of run ${runId} (${snapshot.notebookPath} is not a notebook)`);
    }
    return { commit: snapshot.commit, notebookPath: snapshot.notebookPath, notebook: notebook as Record<string, unknown> };
  }

  /**
   * Pins the run to a commit already in its project's repository (a job run at an earlier
   * snapshot); `files` are the snapshot's own files (the notebook and its local modules).
   */
  attach(runId: string, snapshot: Omit<RunSnapshot, 'reused'>): RunSnapshot {
    const pinned: RunSnapshot = { ...snapshot, files: [...new Set(snapshot.files)].sort(), reused: true };
    if (!this.runs.setSnapshot(runId, pinned)) throw this.alreadySnapshotted(runId);
    return pinned;
  }

  /** Whether the project's repository has this commit. */
  hasCommit(projectId: string, commit: string): Promise<boolean> {
    return this.store.hasCommit(projectId, commit);
  }

  /** The files of a commit that `keep` accepts (e.g. Python modules), sorted. */
  pathsAt(projectId: string, commit: string, keep?: (path: string) => boolean): Promise<string[]> {
    return this.store.paths(projectId, commit, keep);
  }

  /** A file's text at a commit, or null when the commit has no such file. */
  async textAt(projectId: string, commit: string, path: string): Promise<string | null> {
    const content = await this.store.read(projectId, commit, path);
    return content === null ? null : content.toString('utf8');
  }

  /** The notebook (nbformat JSON) at `path` in a commit; null when absent or not a notebook. */
  async notebookAt(projectId: string, commit: string, path: string): Promise<Record<string, unknown> | null> {
    const text = await this.textAt(projectId, commit, path);
    if (text === null) return null;
    try {
      const notebook = JSON.parse(text) as unknown;
      return typeof notebook === 'object' && notebook !== null && !Array.isArray(notebook) ? (notebook as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  private alreadySnapshotted(runId: string): AppError {
    return new AppError('conflict', `Run ${runId} already has a snapshot; a run is pinned to one commit`);
  }

  /** The files to commit, checked: no duplicates, no file inside another file, no `.git`. */
  private filesOf(input: CreateSnapshotInput): Map<string, Buffer> {
    const entries: { path: string; field: string; content: Buffer }[] = [];
    if (input.notebook !== null) {
      const content = Buffer.from(serializeNotebook(stripNotebook(input.notebook, this.keepOutputs)), 'utf8');
      entries.push({ path: input.notebookPath, field: 'body.notebookPath', content });
    }
    input.files.forEach((file, index) =>
      entries.push({ path: file.path, field: `body.files.${index}.path`, content: Buffer.from(file.content, 'utf8') })
    );
    const problems: FieldProblem[] = [];
    if (input.notebook === null && !input.files.some((file) => file.path === input.notebookPath)) {
      problems.push({ path: 'body.notebookPath', message: 'without a notebook, notebookPath must name one of the files' });
    }
    const files = new Map<string, Buffer>();
    for (const { path, field, content } of entries) {
      if (files.has(path)) problems.push({ path: field, message: `${path} is given twice` });
      if (path.split('/').some((segment) => segment.toLowerCase() === '.git')) {
        problems.push({ path: field, message: '.git is reserved by git' });
      }
      if (entries.some((other) => other.path.startsWith(`${path}/`))) {
        problems.push({ path: field, message: `${path} is both a file and a folder` });
      }
      files.set(path, content);
    }
    if (problems.length > 0) throw invalid(problems);
    return files;
  }

  private serialised<T>(projectId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(projectId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(projectId, tail);
    void tail.then(() => {
      if (this.queues.get(projectId) === tail) this.queues.delete(projectId);
    });
    return next;
  }
}
