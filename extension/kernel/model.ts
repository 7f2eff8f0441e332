/**
 * KernelClientsModel: loads the Runlab client into every notebook kernel when it starts or
 * restarts (and again when the connection settings change), and keeps each notebook's result.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { IKernelClients, IKernelClientState, IRunlabConnection } from '../tokens';
import { kernelPinsExpression, readPins, RUNLAB_METADATA_KEY } from '../datasets/pins';
import { attachKernel, sendPins } from './attach';

export class KernelClientsModel implements IKernelClients {
  constructor(
    private readonly _tracker: INotebookTracker,
    private readonly _connection: IRunlabConnection
  ) {
    _tracker.widgetAdded.connect((_, panel) => this._watch(panel));
    _tracker.currentChanged.connect(() => this._changed.emit());
    _tracker.forEach(panel => this._watch(panel));
    // New URL or token: every kernel gets the new credentials.
    _connection.stateChanged.connect(() => {
      const key = this._settingsKey();
      if (key !== this._lastSettingsKey) {
        this._lastSettingsKey = key;
        _tracker.forEach(panel => void this.attach(panel));
      }
    });
  }

  get current(): IKernelClientState | null {
    const panel = this._tracker.currentWidget;
    return panel ? this._states.get(panel) ?? null : null;
  }

  get changed(): ISignal<IKernelClients, void> {
    return this._changed;
  }

  stateOf(panel: NotebookPanel): IKernelClientState | null {
    return this._states.get(panel) ?? null;
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
        this._sentPins.delete(panel);
        await this._pushPins(panel);
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
    });
    session.kernelChanged.connect(() => {
      pending = true;
    });
    panel.context.pathChanged.connect(() => void this.attach(panel));
    // Pins live in the notebook's metadata; the kernel follows every change.
    panel.model?.metadataChanged.connect((_, change) => {
      if (change.key === RUNLAB_METADATA_KEY) {
        void this._pushPins(panel);
      }
    });
    panel.disposed.connect(() => {
      this._states.delete(panel);
      this._sentPins.delete(panel);
    });
    if (session.session?.kernel?.status === 'idle') {
      pending = false;
      void this.attach(panel);
    }
  }

  /** Send the notebook's dataset pins to its kernel, if they changed since last sent. */
  private async _pushPins(panel: NotebookPanel): Promise<void> {
    const kernel = panel.sessionContext.session?.kernel;
    if (!kernel || this._states.get(panel)?.status !== 'attached') {
      return;
    }
    const expression = kernelPinsExpression(readPins(panel.model?.getMetadata(RUNLAB_METADATA_KEY)));
    if (this._sentPins.get(panel) === expression) {
      return;
    }
    this._sentPins.set(panel, expression);
    if (!(await sendPins(kernel, expression)) && this._sentPins.get(panel) === expression) {
      this._sentPins.delete(panel); // try again on the next change or attach
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
  /** The pins expression last sent to each notebook's kernel. */
  private _sentPins = new Map<NotebookPanel, string>();
  private _lastSettingsKey = '';
  private _changed = new Signal<IKernelClients, void>(this);
}
