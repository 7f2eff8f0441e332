/**
 * DatasetsModel: the current project's datasets, kept live from the project's room
 * (`dataset:committed`), each dataset's versions, loaded when first asked for, and the pins of
 * the notebook in focus (so the panel can mark them).
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Dataset, DatasetCommittedEvent, DatasetDeletedEvent, DatasetVersion } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { ProjectRoom } from '../shared/projectRoom';
import { IRunlabConnection } from '../tokens';
import type { IFollowedProject } from './notebookProject';
import { readPins, RUNLAB_METADATA_KEY } from './pins';
import { IDatasetsModel, INotebookPins, IVersionList } from './tokens';

export class DatasetsModel implements IDatasetsModel, IDisposable {
  constructor(
    private readonly _connection: IRunlabConnection,
    private readonly _project: IFollowedProject,
    private readonly _notebooks: INotebookTracker | null = null
  ) {
    this._projectRoom = new ProjectRoom(_connection);
    _project.changed.connect(this._onProjectChanged, this);
    _connection.on('dataset:committed', this._onCommitted, this);
    _connection.on('dataset:deleted', this._onDeleted, this);
    _notebooks?.currentChanged.connect(this._followNotebook, this);
    this._followNotebook();
    this._onProjectChanged();
  }

  get datasets(): readonly Dataset[] {
    return this._datasets;
  }

  get loading(): boolean {
    return this._loading;
  }

  get error(): string | null {
    return this._error;
  }

  get projectName(): string | null {
    return this._project.project?.name ?? null;
  }

  get changed(): ISignal<IDatasetsModel, void> {
    return this._changed;
  }

  get revealed(): string | null {
    return this._revealed;
  }

  get notebookPins(): INotebookPins | null {
    const notebook = this._notebook;
    if (!notebook || notebook.isDisposed) {
      return null;
    }
    return { notebook: notebook.context.localPath, pins: readPins(notebook.model?.getMetadata(RUNLAB_METADATA_KEY)) };
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  versions(name: string): IVersionList | null {
    return this._versions.get(name) ?? null;
  }

  isExpanded(name: string): boolean {
    return this._expanded.has(name);
  }

  setExpanded(name: string, expanded: boolean): void {
    if (expanded) {
      this._expanded.add(name);
      void this.loadVersions(name);
    } else {
      this._expanded.delete(name);
    }
    this._changed.emit();
  }

  reveal(name: string, version: string): void {
    this._revealed = `${name}@${version}`;
    this.setExpanded(name, true);
  }

  async loadVersions(name: string, force = false): Promise<void> {
    const project = this.projectName;
    const known = this._versions.get(name);
    if (!project || (known && !force && (known.loading || !known.error))) {
      return;
    }
    this._versions.set(name, { versions: known?.versions ?? [], loading: true, error: null });
    this._changed.emit();
    try {
      const { versions } = await this._connection.api.datasets.listDatasetVersions({ params: { project, name } });
      this._versions.set(name, { versions, loading: false, error: null });
    } catch (error) {
      this._versions.set(name, {
        versions: known?.versions ?? [],
        loading: false,
        error: describeError(`Could not load the versions of ${name}`, error, 'datasets')
      });
    }
    this._changed.emit();
  }

  async refresh(): Promise<void> {
    const project = this.projectName;
    if (!project) {
      this._datasets = [];
      this._versions.clear();
      this._error = this._project.problem;
      this._changed.emit();
      return;
    }
    this._loading = true;
    this._changed.emit();
    try {
      const { datasets } = await this._connection.api.datasets.listDatasets({ params: { project } });
      this._datasets = [...datasets].sort((a, b) => a.name.localeCompare(b.name));
      this._error = null;
      // Lists already shown are re-read: versions may have been committed while we were away.
      for (const name of this._versions.keys()) {
        void this.loadVersions(name, true);
      }
    } catch (error) {
      this._error = describeError('Could not load datasets', error, 'datasets');
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  async delete(name: string, version: string | null): Promise<void> {
    const project = this.projectName;
    if (!project) {
      return;
    }
    if (version) {
      await this._connection.api.datasets.deleteDatasetVersion({ params: { project, name, version } });
    } else {
      await this._connection.api.datasets.deleteDataset({ params: { project, name } });
    }
    if (!version) {
      this._versions.delete(name);
      this._expanded.delete(name);
    }
    await this.refresh();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._projectRoom.dispose();
    Signal.clearData(this);
  }

  /** The notebook in focus changed (or the last one closed): watch its pins instead. */
  private _followNotebook(): void {
    const notebook = this._notebooks?.currentWidget ?? null;
    if (notebook === this._notebook) {
      return;
    }
    this._notebook?.model?.metadataChanged.disconnect(this._onMetadataChanged, this);
    this._notebook = notebook;
    notebook?.model?.metadataChanged.connect(this._onMetadataChanged, this);
    // A notebook focused while still loading gets its metadata only once its file is read.
    void notebook?.context.ready.then(() => {
      if (this._notebook === notebook && !this._isDisposed) {
        this._changed.emit();
      }
    });
    this._changed.emit();
  }

  private _onMetadataChanged(_: unknown, change: { key: string }): void {
    if (change.key === RUNLAB_METADATA_KEY) {
      this._changed.emit();
    }
  }

  private _onProjectChanged(): void {
    if (this._projectRoom.follow(this._project.project?.id ?? null)) {
      this._versions.clear();
      this._expanded.clear();
    }
    void this.refresh();
  }

  /** Deleted elsewhere (another window, the CLI): read the list again. */
  private _onDeleted(event: DatasetDeletedEvent): void {
    if (event.projectId === this._projectRoom.projectId) {
      void this.refresh();
    }
  }

  private _onCommitted({ version }: DatasetCommittedEvent): void {
    if (version.projectId === this._projectRoom.projectId) {
      this._applyCommitted(version);
    }
  }

  private _applyCommitted(version: DatasetVersion): void {
    const index = this._datasets.findIndex((dataset) => dataset.name === version.datasetName);
    if (index < 0) {
      this._datasets = [
        ...this._datasets,
        {
          id: version.datasetId,
          projectId: version.projectId,
          projectName: version.projectName,
          name: version.datasetName,
          createdAt: version.createdAt,
          versionCount: 1,
          latest: version
        }
      ].sort((a, b) => a.name.localeCompare(b.name));
    } else {
      const dataset = this._datasets[index];
      const newer = !dataset.latest || dataset.latest.number < version.number;
      this._datasets = [
        ...this._datasets.slice(0, index),
        {
          ...dataset,
          // Numbers skip deleted versions, so the count is counted, not read off the number.
          versionCount: newer ? dataset.versionCount + 1 : dataset.versionCount,
          latest: newer ? version : dataset.latest
        },
        ...this._datasets.slice(index + 1)
      ];
    }
    const list = this._versions.get(version.datasetName);
    if (list && !list.versions.some((known) => known.id === version.id)) {
      const versions = [...list.versions, version].sort((a, b) => b.number - a.number);
      this._versions.set(version.datasetName, { ...list, versions });
    }
    this._changed.emit();
  }

  private _datasets: Dataset[] = [];
  private _loading = false;
  private _error: string | null = null;
  private _projectRoom: ProjectRoom;
  private _versions = new Map<string, IVersionList>();
  private _expanded = new Set<string>();
  private _revealed: string | null = null;
  private _notebook: NotebookPanel | null = null;
  private _isDisposed = false;
  private _changed = new Signal<IDatasetsModel, void>(this);
}
