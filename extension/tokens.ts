/**
 * Tokens, command ids and shared types of the Runlab extension. Plugins depend on these
 * tokens, never on the concrete classes.
 */
import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';
import type { Project, Run, WhoAmIResponse } from '../server/src/contract';

export namespace CommandIDs {
  export const openPanel = 'runlab:open-panel';
  export const reconnect = 'runlab:reconnect';
  export const signIn = 'runlab:sign-in';
  export const openSettings = 'runlab:open-settings';
  export const reattachKernel = 'runlab:reattach-kernel';
  export const openRuns = 'runlab:open-runs';
  export const openRun = 'runlab:open-run';
  export const compareRuns = 'runlab:compare-runs';
  export const openSnapshot = 'runlab:open-snapshot';
  export const restoreSnapshot = 'runlab:restore-snapshot';
}

/** Plugin ids double as settings ids: `runlab:<feature>` ↔ `schema/<feature>.json`. */
export namespace PluginIDs {
  export const connection = 'runlab:connection';
  export const panel = 'runlab:panel';
  export const statusbar = 'runlab:statusbar';
  export const kernel = 'runlab:kernel';
  export const projects = 'runlab:projects';
  export const runs = 'runlab:runs';
  export const snapshots = 'runlab:snapshots';
}

/** What the user set in Settings → Runlab (or what `npm start` provided as defaults). */
export interface IConnectionSettings {
  serverUrl: string;
  token: string;
  project: string;
}

export type ConnectionStatus =
  | 'connecting'
  | 'connected'
  | 'unreachable'
  | 'unauthorized'
  | 'version-mismatch'
  | 'not-configured';

export interface IConnectionState {
  status: ConnectionStatus;
  serverUrl: string;
  serverVersion: string | null;
  identity: WhoAmIResponse | null;
  /** One sentence a user can act on: what is wrong and what to do. */
  message: string;
}

/** A socket.io room on the companion server: a project's runs, or one run's metric points. */
export type Room = { projectId: string } | { runId: string };

/** Live events from the companion server, forwarded from socket.io. */
export interface IServerEvent {
  name: string;
  payload: unknown;
}

export interface IRunlabConnection {
  readonly settings: IConnectionSettings;
  readonly state: IConnectionState;
  readonly stateChanged: ISignal<IRunlabConnection, IConnectionState>;
  readonly serverEvent: ISignal<IRunlabConnection, IServerEvent>;
  /** Typed call to the companion server's REST API with the configured token. */
  request<T>(path: string, init?: RequestInit): Promise<T>;
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

export interface ICurrentProject {
  readonly name: string;
  readonly project: Project | null;
  /** Why the project is unavailable, when it is. */
  readonly problem: string | null;
  readonly changed: ISignal<ICurrentProject, void>;
  /** Create the project named in settings on the server. */
  create(): Promise<void>;
}

export const ICurrentProject = new Token<ICurrentProject>(
  'runlab:ICurrentProject',
  'The Runlab project the open notebooks belong to.'
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

export interface IKernelClients {
  /** State of the notebook in focus, or null when no notebook is open. */
  readonly current: IKernelClientState | null;
  readonly changed: ISignal<IKernelClients, void>;
}

export const IKernelClients = new Token<IKernelClients>(
  'runlab:IKernelClients',
  'Whether the Runlab Python client is loaded in each notebook kernel.'
);

export interface IRunsModel {
  /** Runs of the current project, newest first, kept live. */
  readonly runs: readonly Run[];
  readonly total: number;
  readonly loading: boolean;
  readonly error: string | null;
  readonly changed: ISignal<IRunsModel, void>;
  /** Recent points per run and metric key, for sparklines. */
  sparkline(runId: string, key: string): readonly number[];
  loadSparkline(runId: string, key: string): Promise<void>;
  refresh(): Promise<void>;
}

export const IRunsModel = new Token<IRunsModel>(
  'runlab:IRunsModel',
  'The runs of the current Runlab project, updated live.'
);
