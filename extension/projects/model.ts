/**
 * CurrentProjectModel: the project named in settings, as the server knows it. Refreshed on
 * every (re)connect and on project events from the server.
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { Project, ProjectListResponse } from '../../server/src/contract';
import { ICurrentProject, IRunlabConnection } from '../tokens';

export class CurrentProjectModel implements ICurrentProject {
  constructor(private readonly _connection: IRunlabConnection) {
    _connection.stateChanged.connect(() => void this.refresh());
    _connection.serverEvent.connect((_, event) => {
      if (event.name.startsWith('project:')) {
        void this.refresh();
      }
    });
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

  async refresh(): Promise<void> {
    if (this._connection.state.status !== 'connected') {
      this._set(null, null);
      return;
    }
    const name = this.name;
    try {
      const { projects } = await this._connection.request<ProjectListResponse>(
        `/api/projects?name=${encodeURIComponent(name)}`
      );
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
    await this._connection.request<Project>('/api/projects', {
      method: 'POST',
      body: JSON.stringify({ name: this.name })
    });
    await this.refresh();
  }

  private _set(project: Project | null, problem: string | null): void {
    this._project = project;
    this._problem = problem;
    this._changed.emit();
  }

  private _project: Project | null = null;
  private _problem: string | null = null;
  private _changed = new Signal<ICurrentProject, void>(this);
}
