/**
 * SnapshotTaker: when a kernel started from this browser tab begins a run, send the server the
 * notebook exactly as the user sees it — unsaved edits included. The kernel sent the
 * project-local modules it imported with the run itself (it is busy running the user's cell
 * now); the server commits notebook and modules together to the project's git repository.
 */
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import type { Run } from '../../server/src/contract';
import { ProjectRoom } from '../shared/projectRoom';
import { ICurrentProject, IRunlabConnection } from '../tokens';

export class SnapshotTaker implements IDisposable {
  constructor(
    private readonly _connection: IRunlabConnection,
    private readonly _project: ICurrentProject,
    private readonly _tracker: INotebookTracker
  ) {
    this._projectRoom = new ProjectRoom(_connection);
    // The notebooks' project, not the one the user is viewing: their runs are the ones to snapshot.
    _project.changed.connect(this._joinProject, this);
    _project.projectsChanged.connect(this._joinProject, this);
    _connection.on('run:created', (run) => void this._onRunCreated(run), this);
    this._joinProject();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._projectRoom.dispose();
    Signal.clearData(this);
  }

  private _joinProject(): void {
    this._projectRoom.follow(this._project.notebookProject?.id ?? null);
  }

  private _findNotebook(path: string): NotebookPanel | null {
    return this._tracker.find((panel) => panel.context.path === path) ?? null;
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
      await this._connection.api.snapshots.createSnapshot({
        params: { id: run.id },
        body: { notebookPath: run.notebookPath, notebook, files: [] }
      });
    } catch (error) {
      Notification.warning(`Runlab could not snapshot ${run.notebookPath} for run ${run.name}: ${(error as Error).message}`, {
        autoClose: 8000
      });
    }
  }

  private _projectRoom: ProjectRoom;
  private _isDisposed = false;
}
