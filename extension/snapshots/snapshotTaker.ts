/**
 * SnapshotTaker: when a kernel started from this browser tab begins a run, send the server the
 * notebook exactly as the user sees it — unsaved edits included. The kernel sent the
 * project-local modules it imported with the run itself (it is busy running the user's cell
 * now); the server commits notebook and modules together to the project's git repository.
 */
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import type { CreateSnapshotRequest, Run, RunSnapshot } from '../../server/src/contract';
import { ICurrentProject, IRunlabConnection } from '../tokens';

export class SnapshotTaker implements IDisposable {
  constructor(
    private readonly _connection: IRunlabConnection,
    private readonly _project: ICurrentProject,
    private readonly _tracker: INotebookTracker
  ) {
    _project.changed.connect(this._joinProject, this);
    _connection.serverEvent.connect((_, event) => {
      if (event.name === 'run:created') {
        void this._onRunCreated(event.payload as Run);
      }
    });
    this._joinProject();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    this._room?.dispose();
  }

  private _joinProject(): void {
    const projectId = this._project.project?.id ?? null;
    if (projectId !== this._projectId) {
      this._room?.dispose();
      this._room = projectId ? this._connection.join({ projectId }) : null;
      this._projectId = projectId;
    }
  }

  private _findNotebook(path: string): NotebookPanel | null {
    return this._tracker.find(panel => panel.context.path === path) ?? null;
  }

  private async _onRunCreated(run: Run): Promise<void> {
    if (run.frontendId !== this._connection.frontendId || !run.notebookPath || run.snapshot) {
      return;
    }
    const panel = this._findNotebook(run.notebookPath);
    if (!panel?.context.model) {
      return;
    }
    const notebook = panel.context.model.toJSON() as Record<string, unknown>;
    try {
      await this._connection.request<RunSnapshot>(`/api/runs/${encodeURIComponent(run.id)}/snapshot`, {
        method: 'POST',
        body: JSON.stringify({ notebookPath: run.notebookPath, notebook, files: [] } satisfies CreateSnapshotRequest)
      });
    } catch (error) {
      Notification.warning(`Runlab could not snapshot ${run.notebookPath} for run ${run.name}: ${(error as Error).message}`, {
        autoClose: 8000
      });
    }
  }

  private _projectId: string | null = null;
  private _room: IDisposable | null = null;
  private _isDisposed = false;
}
