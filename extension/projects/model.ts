/**
 * CurrentProjectModel: the project named in settings, as the server knows it. Refreshed on
 * every (re)connect and on project events from the server.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Project } from '../../server/src/contract';
import { ICurrentProject, IRunlabConnection } from '../tokens';

export class CurrentProjectModel implements ICurrentProject, IDisposable {
  constructor(private readonly _connection: IRunlabConnection) {
    _connection.stateChanged.connect(this._onChange, this);
    _connection.on('project:created', this._onChange, this);
    _connection.on('project:updated', this._onChange, this);
    _connection.on('project:deleted', this._onChange, this);
    void this.refresh();
  }

  get name(): string {
    return this._connection.settings.project;
  }

  get project(): Project | null {
    return this._project;
  }

  get problem(): string | null {
    return this._problem;
  }

  get changed(): ISignal<ICurrentProject, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  async refresh(): Promise<void> {
    if (this._connection.state.status !== 'connected') {
      this._set(null, null);
      return;
    }
    const name = this.name;
    try {
      const { projects } = await this._connection.api.projects.listProjects({ query: { name } });
      this._set(
        projects[0] ?? null,
        projects[0] ? null : `No project named "${name}" on this server yet. Create it here, or pick another project in Settings → Runlab.`
      );
    } catch (error) {
      this._set(null, `Could not load project "${name}": ${(error as Error).message}`);
    }
  }

  /** Create the project named in settings on the server. */
  async create(): Promise<void> {
    await this._connection.api.projects.createProject({ body: { name: this.name } });
    await this.refresh();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** A (re)connect, or a project created, renamed or deleted: read the project again. */
  private _onChange(): void {
    void this.refresh();
  }

  private _set(project: Project | null, problem: string | null): void {
    this._project = project;
    this._problem = problem;
    this._changed.emit();
  }

  private _project: Project | null = null;
  private _problem: string | null = null;
  private _isDisposed = false;
  private _changed = new Signal<ICurrentProject, void>(this);
}
