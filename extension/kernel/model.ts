/**
 * KernelClientsModel: loads the Runlab client into every notebook kernel when it starts or
 * restarts (and again when the connection settings change), keeps each notebook's result, and
 * then hands the kernel what each feature's contribution says it should know.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { IKernelClients, IKernelClientState, IKernelContribution, IRunlabConnection } from '../tokens';
import { attachKernel, tellKernel } from './attach';

export class KernelClientsModel implements IKernelClients, IDisposable {
  constructor(
    private readonly _tracker: INotebookTracker,
    private readonly _connection: IRunlabConnection
  ) {
    _tracker.widgetAdded.connect((_, panel) => this._watch(panel), this);
    _tracker.currentChanged.connect(() => this._changed.emit(), this);
    _tracker.forEach((panel) => this._watch(panel));
    _connection.stateChanged.connect(this._onConnectionChanged, this);
    // A new project setting alone needs no reconnect, but every kernel must log to it from now on.
    _connection.settingsChanged.connect(this._onConnectionChanged, this);
  }

  get current(): IKernelClientState | null {
    const panel = this._tracker.currentWidget;
    return panel ? (this._states.get(panel) ?? null) : null;
  }

  get changed(): ISignal<IKernelClients, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  stateOf(panel: NotebookPanel): IKernelClientState | null {
    return this._states.get(panel) ?? null;
  }

  addContribution(contribution: IKernelContribution): IDisposable {
    this._contributions.add(contribution);
    for (const panel of this._watches.keys()) {
      this._watchFor(panel, contribution);
      void this._tell(panel, contribution);
    }
    return new DisposableDelegate(() => this._removeContribution(contribution));
  }

  /** Load the client into this notebook's kernel now. */
  async attach(panel: NotebookPanel): Promise<void> {
    const kernel = panel.sessionContext.session?.kernel;
    if (!kernel || !this._connection.settings.serverUrl) {
      return;
    }
    const notebookPath = panel.context.path;
    this._set(panel, {
      notebookPath,
      status: 'attaching',
      clientVersion: null,
      installCommand: null,
      message: 'Loading the Runlab client into the kernel…'
    });
    try {
      const state = await attachKernel(kernel, this._connection.settings, notebookPath, this._connection.frontendId);
      this._set(panel, state);
      if (state.status === 'attached') {
        // A fresh client knows nothing yet: every contribution is told again.
        this._told.delete(panel);
        for (const contribution of this._contributions) {
          await this._tell(panel, contribution);
        }
      }
    } catch (error) {
      this._set(panel, {
        notebookPath,
        status: 'failed',
        clientVersion: null,
        installCommand: null,
        message: `Loading the Runlab client failed: ${(error as Error).message}`
      });
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const watches of this._watches.values()) {
      watches.forEach((watch) => watch.dispose());
    }
    this._watches.clear();
    this._contributions.clear();
    Signal.clearData(this);
  }

  /** New URL, token or project: every kernel gets the new settings. */
  private _onConnectionChanged(): void {
    const key = this._settingsKey();
    if (key !== this._lastSettingsKey) {
      this._lastSettingsKey = key;
      this._tracker.forEach((panel) => void this.attach(panel));
    }
  }

  private _watch(panel: NotebookPanel): void {
    const session = panel.sessionContext;
    // A kernel is ready for us when it is idle for the first time after starting or restarting.
    let pending = true;
    session.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'starting') {
        pending = true;
      } else if (status === 'idle' && pending) {
        pending = false;
        void this.attach(panel);
      }
    }, this);
    session.kernelChanged.connect(() => {
      pending = true;
    }, this);
    panel.context.pathChanged.connect(() => void this.attach(panel), this);
    this._watches.set(panel, new Map());
    for (const contribution of this._contributions) {
      this._watchFor(panel, contribution);
    }
    panel.disposed.connect(() => this._forget(panel), this);
    if (session.session?.kernel?.status === 'idle') {
      pending = false;
      void this.attach(panel);
    }
  }

  /** Let a contribution watch one notebook, so its kernel follows every change. */
  private _watchFor(panel: NotebookPanel, contribution: IKernelContribution): void {
    const watches = this._watches.get(panel);
    if (!watches || !contribution.watch || watches.has(contribution)) {
      return;
    }
    watches.set(
      contribution,
      contribution.watch(panel, () => void this._tell(panel, contribution))
    );
  }

  private _forget(panel: NotebookPanel): void {
    this._watches.get(panel)?.forEach((watch) => watch.dispose());
    this._watches.delete(panel);
    this._states.delete(panel);
    this._told.delete(panel);
  }

  private _removeContribution(contribution: IKernelContribution): void {
    this._contributions.delete(contribution);
    for (const watches of this._watches.values()) {
      watches.get(contribution)?.dispose();
      watches.delete(contribution);
    }
    for (const told of this._told.values()) {
      told.delete(contribution);
    }
  }

  /** Hand the kernel a contribution's expression, if it changed since the kernel last took it. */
  private async _tell(panel: NotebookPanel, contribution: IKernelContribution): Promise<void> {
    const kernel = panel.sessionContext.session?.kernel;
    if (!kernel || this._states.get(panel)?.status !== 'attached' || !this._contributions.has(contribution)) {
      return;
    }
    let expression: string | null;
    try {
      expression = contribution.kernelExpression(panel);
    } catch (error) {
      // One feature's mistake must not keep the others (or the client) from the kernel.
      console.error(`Runlab: the ${contribution.feature} contribution failed for ${panel.context.path}`, error);
      return;
    }
    const told = this._told.get(panel) ?? new Map<IKernelContribution, string>();
    this._told.set(panel, told);
    if (expression === null || told.get(contribution) === expression) {
      return;
    }
    told.set(contribution, expression);
    if (!(await tellKernel(kernel, expression)) && this._told.get(panel)?.get(contribution) === expression) {
      this._told.get(panel)?.delete(contribution); // try again on the next change or attach
    }
  }

  private _set(panel: NotebookPanel, state: IKernelClientState): void {
    this._states.set(panel, state);
    this._changed.emit();
  }

  private _settingsKey(): string {
    const { serverUrl, token, project } = this._connection.settings;
    return `${serverUrl}\n${token}\n${project}`;
  }

  private _states = new Map<NotebookPanel, IKernelClientState>();
  private _contributions = new Set<IKernelContribution>();
  /** What each contribution watches, per notebook being watched. */
  private _watches = new Map<NotebookPanel, Map<IKernelContribution, IDisposable>>();
  /** The expression each contribution last handed each notebook's kernel. */
  private _told = new Map<NotebookPanel, Map<IKernelContribution, string>>();
  private _lastSettingsKey = '';
  private _isDisposed = false;
  private _changed = new Signal<IKernelClients, void>(this);
}
