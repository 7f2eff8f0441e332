/**
 * CurrentProjectModel: every project on the server, and the one this JupyterLab session shows.
 *
 * The session shows the notebooks' project (the `project` setting, which kernels receive)
 * unless the user switched to another one. That choice is kept in the browser's storage per
 * server, by project id (so a rename elsewhere is followed), and never written to the setting
 * unless the user asks (`makeNotebookProject`). The list is read on every (re)connect and kept
 * live from project events; run counts are counted in the background and kept from run events.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Project } from '../../server/src/contract';
import { RunlabRequestError } from '../request';
import { describeError } from '../shared/errors';
import { ICurrentProject, IRunlabConnection } from '../tokens';
import { projectNameProblem } from './name';

/** Where the session's choice is kept: `window.localStorage` in the browser. */
export interface IProjectChoiceStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ICurrentProjectOptions {
  connection: IRunlabConnection;
  /** Null: the choice lasts until the page reloads. */
  storage: IProjectChoiceStorage | null;
  /** Write the notebooks' project to the setting kernels receive; null when settings are unavailable. */
  saveNotebookProject: ((name: string) => Promise<void>) | null;
}

/** A project chosen for this session: its id, and its name for before the list is read. */
interface IChoice {
  id: string;
  name: string;
}

/** Projects counted at most, so a server with very many projects is not asked for each. */
const COUNTED_PROJECTS = 100;

const STORAGE_PREFIX = 'runlab:project-choice:';

function byName(a: Project, b: Project): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.name.localeCompare(b.name);
}

/** The server's refusal as a sentence, with the fields it names. */
function refusal(action: string, error: unknown): Error {
  let message = describeError(action, error, 'projects');
  if (error instanceof RunlabRequestError && error.details.length > 0) {
    message += ` (${error.details.map((detail) => `${detail.path}: ${detail.message}`).join('; ')})`;
  }
  return new Error(message);
}

export class CurrentProjectModel implements ICurrentProject, IDisposable {
  constructor(options: ICurrentProjectOptions) {
    this._connection = options.connection;
    this._storage = options.storage;
    this._saveNotebookProject = options.saveNotebookProject;
    const connection = this._connection;
    connection.stateChanged.connect(() => void this.refresh(), this);
    connection.on('project:created', this._onProjectSeen, this);
    connection.on('project:updated', this._onProjectSeen, this);
    connection.on('project:deleted', this._onProjectDeleted, this);
    connection.on('run:created', (run) => this._countRun(run.projectId, +1), this);
    connection.on('run:deleted', (run) => this._countRun(run.projectId, -1), this);
    void this.refresh();
  }

  get name(): string {
    return this._project?.name ?? this._choice()?.name ?? this.notebookProjectName;
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

  get notebookProjectName(): string {
    return this._connection.settings.project;
  }

  get notebookProject(): Project | null {
    return this._projects.find((project) => project.name === this.notebookProjectName) ?? null;
  }

  get projects(): readonly Project[] {
    return this._projects;
  }

  get projectsChanged(): ISignal<ICurrentProject, void> {
    return this._projectsChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  runCount(projectId: string): number | null {
    return this._runCounts.get(projectId) ?? null;
  }

  /** Read every project again, then which one is current, then count their runs. */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    if (this._connection.state.status !== 'connected') {
      this._setProjects([], false);
      this._resolve(null);
      return;
    }
    try {
      const { projects } = await this._connection.api.projects.listProjects({});
      if (generation !== this._generation) {
        return; // a newer refresh is under way
      }
      this._setProjects(projects, true);
      this._resolve(null);
      void this._countRuns(generation);
    } catch (error) {
      if (generation === this._generation) {
        this._setProjects([], false);
        this._resolve(describeError(`Could not load the projects`, error, 'projects'));
      }
    }
  }

  /** The notebooks' project setting may have changed: follow it. */
  notebookProjectChanged(): void {
    this._resolve(null);
    this._projectsChanged.emit();
  }

  select(name: string | null): void {
    if (name === null || name === this.notebookProjectName) {
      this._setChoice(null);
    } else {
      const project = this._projects.find((candidate) => candidate.name === name);
      this._setChoice({ id: project?.id ?? '', name });
    }
    this._resolve(null);
  }

  async create(): Promise<void> {
    const name = this.name;
    try {
      await this._connection.api.projects.createProject({ body: { name } });
    } catch (error) {
      throw refusal(`Could not create project "${name}"`, error);
    }
    await this.refresh();
  }

  async createProject(name: string): Promise<Project> {
    const problem = projectNameProblem(name);
    if (problem) {
      throw new Error(problem);
    }
    let project: Project;
    try {
      project = await this._connection.api.projects.createProject({ body: { name } });
    } catch (error) {
      throw refusal(`Could not create project "${name}"`, error);
    }
    this._onProjectSeen(project);
    this.select(project.name);
    return project;
  }

  async rename(name: string): Promise<void> {
    const current = this._project;
    if (!current) {
      throw new Error('There is no current project to rename.');
    }
    if (name === current.name) {
      return;
    }
    const problem = projectNameProblem(name);
    if (problem) {
      throw new Error(problem);
    }
    const wasNotebookProject = current.name === this.notebookProjectName;
    let renamed: Project;
    try {
      renamed = await this._connection.api.projects.updateProject({ params: { id: current.id }, body: { name } });
    } catch (error) {
      throw refusal(`Could not rename project "${current.name}" to "${name}"`, error);
    }
    if (wasNotebookProject && this._saveNotebookProject) {
      // Renaming the notebooks' project renames it for the kernels too; otherwise their next
      // run would start a new, empty project under the old name.
      await this._saveNotebookProject(renamed.name);
    } else if (!wasNotebookProject) {
      this._setChoice({ id: renamed.id, name: renamed.name });
    }
    this._onProjectSeen(renamed);
  }

  async makeNotebookProject(): Promise<void> {
    const name = this._project?.name;
    if (!name || name === this.notebookProjectName) {
      return;
    }
    if (!this._saveNotebookProject) {
      throw new Error('The Runlab settings are not available, so the notebooks’ project cannot be changed here.');
    }
    await this._saveNotebookProject(name);
    this._setChoice(null);
    this.notebookProjectChanged();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** A project created or updated (renamed, a new head commit): keep it in the list. */
  private _onProjectSeen(project: Project): void {
    if (!this._listed) {
      return; // the list is read on connect; until then there is nothing to keep up to date
    }
    const isNew = !this._projects.some((known) => known.id === project.id);
    this._setProjects([...this._projects.filter((known) => known.id !== project.id), project], true);
    this._resolve(null);
    if (isNew && !this._runCounts.has(project.id)) {
      this._runCounts.set(project.id, 0);
      this._projectsChanged.emit();
    }
  }

  private _onProjectDeleted({ id }: { id: string }): void {
    if (!this._listed) {
      return;
    }
    this._runCounts.delete(id);
    this._setProjects(
      this._projects.filter((project) => project.id !== id),
      true
    );
    this._resolve(null);
  }

  private _countRun(projectId: string, change: number): void {
    const count = this._runCounts.get(projectId);
    if (count !== undefined) {
      this._runCounts.set(projectId, Math.max(0, count + change));
      this._projectsChanged.emit();
    }
  }

  /** Each project's run count: one small request per project (`total` of a one-run page). */
  private async _countRuns(generation: number): Promise<void> {
    const projects = this._projects.slice(0, COUNTED_PROJECTS);
    await Promise.all(
      projects.map(async (project) => {
        try {
          const { total } = await this._connection.api.runs.listRuns({ query: { project: project.name, limit: 1 } });
          if (generation === this._generation) {
            this._runCounts.set(project.id, total);
          }
        } catch {
          // A count is a hint beside the name: leave it unknown.
        }
      })
    );
    if (generation === this._generation) {
      this._projectsChanged.emit();
    }
  }

  private _setProjects(projects: Project[], listed: boolean): void {
    this._projects = [...projects].sort(byName);
    this._listed = listed;
    this._projectsChanged.emit();
  }

  /** Which project is current, from the list and the choice; emits `changed` when that differs. */
  private _resolve(loadProblem: string | null): void {
    let project: Project | null = null;
    let problem = loadProblem;
    if (this._listed) {
      const choice = this._choice();
      const chosen = choice
        ? (this._projects.find((candidate) => candidate.id === choice.id) ??
          this._projects.find((candidate) => candidate.name === choice.name))
        : undefined;
      if (choice && !chosen) {
        this._setChoice(null); // the project chosen is gone: back to the notebooks' project
      } else if (choice && chosen && (chosen.id !== choice.id || chosen.name !== choice.name)) {
        this._setChoice(chosen.name === this.notebookProjectName ? null : { id: chosen.id, name: chosen.name });
      }
      project = chosen ?? this.notebookProject;
      if (!project) {
        problem = `No project named "${this.notebookProjectName}" on this server yet. Create it here, or switch to another project.`;
      }
    }
    const key = JSON.stringify([project, problem, this.notebookProjectName]);
    if (key === this._resolvedKey) {
      return;
    }
    this._resolvedKey = key;
    this._project = project;
    this._problem = problem;
    this._changed.emit();
  }

  private _storageKey(): string {
    return STORAGE_PREFIX + this._connection.settings.serverUrl;
  }

  private _choice(): IChoice | null {
    const key = this._storageKey();
    if (this._memory.has(key)) {
      return this._memory.get(key) ?? null;
    }
    let choice: IChoice | null = null;
    try {
      const stored = JSON.parse(this._storage?.getItem(key) ?? 'null') as IChoice | null;
      if (stored && typeof stored.id === 'string' && typeof stored.name === 'string') {
        choice = stored;
      }
    } catch {
      // Unreadable storage (or not JSON): no choice.
    }
    this._memory.set(key, choice);
    return choice;
  }

  private _setChoice(choice: IChoice | null): void {
    const key = this._storageKey();
    this._memory.set(key, choice);
    try {
      if (choice) {
        this._storage?.setItem(key, JSON.stringify(choice));
      } else {
        this._storage?.removeItem(key);
      }
    } catch {
      // Storage full or denied: the choice lasts for this page only.
    }
  }

  private readonly _connection: IRunlabConnection;
  private readonly _storage: IProjectChoiceStorage | null;
  private readonly _saveNotebookProject: ((name: string) => Promise<void>) | null;
  /** The choice per storage key, as read or written (storage is read once per server). */
  private readonly _memory = new Map<string, IChoice | null>();
  private _projects: Project[] = [];
  private _listed = false;
  private _runCounts = new Map<string, number>();
  private _project: Project | null = null;
  private _problem: string | null = null;
  private _resolvedKey = '';
  private _generation = 0;
  private _isDisposed = false;
  private _changed = new Signal<ICurrentProject, void>(this);
  private _projectsChanged = new Signal<ICurrentProject, void>(this);
}
