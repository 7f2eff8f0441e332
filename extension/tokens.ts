/**
 * The services Runlab's features share: the connection to the companion server, the current
 * project and the kernel clients, with the types they speak in. Each feature's own command
 * ids, plugin id and model token live in its folder's `tokens.ts`. Plugins depend on these
 * tokens, never on the concrete classes.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';
import type { Project, ServerToClientEvents, WhoAmIResponse } from '../server/src/contract';
import type { ApiClient } from './rest/types';

/** What the user set in Settings → Runlab (or what `npm start` provided as defaults). */
export interface IConnectionSettings {
  serverUrl: string;
  token: string;
  project: string;
}

export type ConnectionStatus = 'connecting' | 'connected' | 'unreachable' | 'unauthorized' | 'version-mismatch' | 'not-configured';

export interface IConnectionState {
  status: ConnectionStatus;
  serverUrl: string;
  serverVersion: string | null;
  identity: WhoAmIResponse | null;
  /** One sentence a user can act on: what is wrong and what to do. */
  message: string;
  /**
   * The local companion server `npm start` runs for this JupyterLab, when it answers and is not
   * the server configured (or rejects the configured token): the panel then offers to switch to
   * it (`runlab:use-local-server`). Null otherwise.
   */
  localServerUrl: string | null;
}

/** A socket.io room on the companion server: a project's runs, or one run's metric points. */
export type Room = { projectId: string } | { runId: string };

/** The names of the live events the companion server sends (`run:metrics`, …), from the contract. */
export type ServerEventName = keyof ServerToClientEvents;

/** What a live event carries, as the contract declares it. */
export type ServerEventPayload<K extends ServerEventName> = Parameters<ServerToClientEvents[K]>[0];

export interface IRunlabConnection {
  readonly settings: IConnectionSettings;
  readonly state: IConnectionState;
  readonly stateChanged: ISignal<IRunlabConnection, IConnectionState>;
  /** The settings changed (the project alone, too, which needs no reconnect but new kernel settings). */
  readonly settingsChanged: ISignal<IRunlabConnection, IConnectionSettings>;
  /**
   * Call `handler` with each live event `name` from the server (of the rooms joined), typed by
   * the contract. `owner` is the handler's `this` and owns the connection:
   * `Signal.clearData(owner)` disconnects it, as does disposing the returned handle.
   */
  on<K extends ServerEventName>(name: K, handler: (payload: ServerEventPayload<K>) => void, owner: object): IDisposable;
  /**
   * The companion server's REST API with the configured token, one typed method per contract
   * operation: `connection.api.runs.getRun({ params: { id } })`.
   */
  readonly api: ApiClient;
  /** Drop the current connection and connect again (after settings change or on demand). */
  reconnect(): void;
  /** Receive a room's events while the returned handle lives; joined again after reconnects. */
  join(room: Room): IDisposable;
  /** Identifies this browser tab; kernels started here pass it on, so this tab snapshots their runs. */
  readonly frontendId: string;
}

export const IRunlabConnection = new Token<IRunlabConnection>(
  'runlab:IRunlabConnection',
  'The connection to the Runlab companion server: state, REST requests and live events.'
);

/**
 * The project this JupyterLab session shows (Runs, Datasets, the panel). It is the notebooks'
 * project (the `project` setting kernels receive) unless the user switched to another one for
 * this session; kernels keep the setting either way.
 */
export interface ICurrentProject {
  readonly name: string;
  readonly project: Project | null;
  /** Why the project is unavailable, when it is. */
  readonly problem: string | null;
  /** The current project changed (another one, renamed, created, gone, or the connection changed). */
  readonly changed: ISignal<ICurrentProject, void>;
  /** Create the current project (`name`) on the server, when it does not exist. */
  create(): Promise<void>;
  /** The notebooks' project: the `project` setting kernels receive. */
  readonly notebookProjectName: string;
  /** The notebooks' project as the server knows it; null while unknown or missing. */
  readonly notebookProject: Project | null;
  /** Every project on the server, by name; kept live from project events. */
  readonly projects: readonly Project[];
  /** How many runs a project has, once counted; null while unknown. */
  runCount(projectId: string): number | null;
  /** `projects` or their run counts changed (`changed` is only for the current project). */
  readonly projectsChanged: ISignal<ICurrentProject, void>;
  /**
   * Show another project in this JupyterLab session (kept across reloads, per server); null or
   * the notebooks' project goes back to following the setting. Never changes the setting.
   */
  select(name: string | null): void;
  /** Create a project and switch to it; rejects with a sentence a user can act on. */
  createProject(name: string): Promise<Project>;
  /** Rename the current project; rejects with the server's reason (a name taken, …). */
  rename(name: string): Promise<void>;
  /** Make the current project the notebooks' project: write it to the setting kernels receive. */
  makeNotebookProject(): Promise<void>;
}

export const ICurrentProject = new Token<ICurrentProject>(
  'runlab:ICurrentProject',
  "The Runlab project this JupyterLab session shows: the notebooks' project, or another one the user switched to."
);

export type KernelClientStatus = 'attaching' | 'attached' | 'missing-package' | 'unsupported' | 'failed';

export interface IKernelClientState {
  notebookPath: string;
  status: KernelClientStatus;
  clientVersion: string | null;
  /** For `missing-package`: the exact command that installs the client into this kernel. */
  installCommand: string | null;
  message: string;
}

/**
 * What one feature tells every notebook's kernel: handed over each time the Runlab client
 * loads into the kernel (it starts or restarts, or the connection settings change), and again
 * whenever the feature says it changed. Features register one with
 * `IKernelClients.addContribution` instead of reaching into the kernel feature.
 */
export interface IKernelContribution {
  /** The feature contributing, e.g. `datasets`. */
  readonly feature: string;
  /**
   * A Python expression that hands this notebook's kernel what the feature knows, evaluated
   * silently (nothing in the notebook, nothing in the kernel's history) once the client is
   * loaded; null when there is nothing to tell. It is sent again only when it differs from what
   * the kernel last took. It should be guarded, so that a kernel whose runlab package predates
   * it is left alone.
   */
  kernelExpression(notebook: NotebookPanel): string | null;
  /**
   * Watch what the expression depends on in one notebook and call `changed` when it may differ.
   * The handle is disposed when the notebook closes or the contribution is removed.
   */
  watch?(notebook: NotebookPanel, changed: () => void): IDisposable;
}

export interface IKernelClients {
  /** State of the notebook in focus, or null when no notebook is open. */
  readonly current: IKernelClientState | null;
  readonly changed: ISignal<IKernelClients, void>;
  /** Tell every kernel what a feature knows, from now on; dispose the handle to stop. */
  addContribution(contribution: IKernelContribution): IDisposable;
}

export const IKernelClients = new Token<IKernelClients>(
  'runlab:IKernelClients',
  'Whether the Runlab Python client is loaded in each notebook kernel, and what features tell it.'
);
