import type { IDisposable } from '@lumino/disposable';
import type { IRunlabConnection } from '../tokens';

/**
 * Membership of the current project's socket room for a model that shows that project live:
 * moving to another project leaves the old room and joins the new one; dispose leaves.
 */
export class ProjectRoom implements IDisposable {
  constructor(private readonly _connection: IRunlabConnection) {}

  get projectId(): string | null {
    return this._projectId;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Joins `projectId`'s room; true when that is another project than before. */
  follow(projectId: string | null): boolean {
    if (projectId === this._projectId) {
      return false;
    }
    this._room?.dispose();
    this._room = projectId ? this._connection.join({ projectId }) : null;
    this._projectId = projectId;
    return true;
  }

  dispose(): void {
    this._isDisposed = true;
    this._room?.dispose();
    this._room = null;
  }

  private _projectId: string | null = null;
  private _room: IDisposable | null = null;
  private _isDisposed = false;
}
