/**
 * ConnectionModel: the extension's link to the companion server.
 *
 * socket.io is the liveness source: it reconnects by itself with back-off when the server goes
 * away and comes back. Each (re)connect is followed by a REST check of the server's version and
 * of who the token belongs to, so the state names exactly what a user must fix. It also keeps
 * an eye on the local server `npm start` runs (when there is one): while it answers and another
 * server is configured, the state names it, so the panel can offer to switch.
 */
import { UUID } from '@lumino/coreutils';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { io, Socket } from 'socket.io-client';
import type { ClientToServerEvents, HealthResponse, ServerToClientEvents, WhoAmIResponse } from '../../server/src/contract';
import { createApiClient } from '../rest/client';
import type { ApiClient } from '../rest/types';
import { requestAPI, RunlabRequestError } from '../request';
import { IConnectionSettings, IConnectionState, IRunlabConnection, Room, ServerEventName, ServerEventPayload } from '../tokens';
import { isCompatibleVersion } from '../version';
import { ILocalServer, isLocalServer, offersLocalServer, serverHealth } from './localServer';
import { describeSituation, Situation } from './messages';
import { ServerEvents } from './serverEvents';

/** How often to try again while the token is rejected (socket.io gives up on auth errors). */
const UNAUTHORIZED_RETRY_MS = 10000;

/** How often to ask the local server whether it is up, while another server is configured. */
const LOCAL_PROBE_MS = 10000;

export class ConnectionModel implements IRunlabConnection {
  constructor(settings: IConnectionSettings) {
    this._settings = settings;
    this._situation = settings.serverUrl ? { status: 'connecting' } : { status: 'not-configured' };
    this._state = this._describe();
  }

  get settings(): IConnectionSettings {
    return this._settings;
  }

  get state(): IConnectionState {
    return this._state;
  }

  get stateChanged(): ISignal<IRunlabConnection, IConnectionState> {
    return this._stateChanged;
  }

  get settingsChanged(): ISignal<IRunlabConnection, IConnectionSettings> {
    return this._settingsChanged;
  }

  /** The local server `npm start` runs for this JupyterLab, or null. */
  get localServer(): ILocalServer | null {
    return this._local;
  }

  /** Tell the model which local server `npm start` runs (null: none); it checks whether it is up. */
  setLocalServer(local: ILocalServer | null): void {
    if (local?.url === this._local?.url && local?.token === this._local?.token) {
      return;
    }
    this._local = local;
    this._localHealth = null;
    this._probeLocalServer();
  }

  on<K extends ServerEventName>(name: K, handler: (payload: ServerEventPayload<K>) => void, owner: object): IDisposable {
    return this._events.on(name, handler, owner);
  }

  /** Apply new settings; reconnects only if something that matters changed. */
  configure(settings: IConnectionSettings): void {
    const changed = settings.serverUrl !== this._settings.serverUrl || settings.token !== this._settings.token;
    const projectChanged = settings.project !== this._settings.project;
    this._settings = settings;
    if (changed || !this._socket) {
      this.reconnect();
      this._probeLocalServer();
    }
    if (changed || projectChanged) {
      this._settingsChanged.emit(settings);
    }
  }

  join(room: Room): IDisposable {
    const key = 'projectId' in room ? `project:${room.projectId}` : `run:${room.runId}`;
    const count = this._rooms.get(key)?.count ?? 0;
    this._rooms.set(key, { room, count: count + 1 });
    if (count === 0) {
      this._emitJoin(room, true);
    }
    return new DisposableDelegate(() => {
      const entry = this._rooms.get(key);
      if (!entry) {
        return;
      }
      if (entry.count > 1) {
        entry.count -= 1;
      } else {
        this._rooms.delete(key);
        this._emitJoin(room, false);
      }
    });
  }

  private _emitJoin(room: Room, join: boolean): void {
    const socket = this._socket;
    if (!socket?.connected) {
      return; // joined on the next connect
    }
    if ('projectId' in room) {
      socket.emit(join ? 'project:join' : 'project:leave', { projectId: room.projectId });
    } else {
      socket.emit(join ? 'run:join' : 'run:leave', { runId: room.runId });
    }
  }

  /** The REST API with the current settings' server and token (read at each call). */
  readonly api: ApiClient = createApiClient({
    send: (path, init, answer, timeoutMs) => requestAPI(this._settings, path, init, timeoutMs, answer)
  });

  reconnect(): void {
    this._closeSocket();
    this._serverVersion = null;
    this._identity = null;
    this._serverId = null;
    if (!this._settings.serverUrl) {
      this._setSituation({ status: 'not-configured' });
      return;
    }
    this._setSituation({ status: 'connecting' });
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(this._settings.serverUrl, {
      auth: { token: this._settings.token },
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 5000
    });
    socket.on('connect', () => {
      // Rooms do not survive a reconnect on the server side: join them again.
      for (const { room } of this._rooms.values()) {
        this._emitJoin(room, true);
      }
      void this._verify();
    });
    socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') {
        // The server cut this socket off (its token was revoked): ask it why, which shows the
        // reason and "sign in", and try again later, as after a refused handshake.
        void this._verify();
        this._retryTimer = window.setTimeout(() => socket.connect(), UNAUTHORIZED_RETRY_MS);
      } else if (reason !== 'io client disconnect') {
        this._setUnreachable();
      }
    });
    socket.on('connect_error', (error) => {
      const code = (error as Error & { data?: { code?: string } }).data?.code ?? error.message;
      if (code === 'unauthorized' || code === 'forbidden') {
        void this._verify();
        // socket.io does not retry after a refused handshake; try again in case the token or
        // the server's token store changes.
        this._retryTimer = window.setTimeout(() => socket.connect(), UNAUTHORIZED_RETRY_MS);
      } else {
        this._setUnreachable();
      }
    });
    // The one place live events enter. Like socket.io's typed listeners, this trusts the server
    // to send what the contract declares for each name (nothing is validated here).
    socket.onAny((name: ServerEventName, payload: ServerEventPayload<ServerEventName>) => this._events.deliver(name, payload));
    this._socket = socket;
  }

  dispose(): void {
    this._closeSocket();
    clearTimeout(this._localTimer);
    this._localProbe += 1;
    this._local = null;
    this._events.dispose();
    Signal.clearData(this);
  }

  /** Ask the server over REST what it is and who we are; sets the resulting state. */
  private async _verify(): Promise<void> {
    const settings = this._settings;
    let health: HealthResponse;
    try {
      health = await this.api.health.getHealth();
    } catch {
      if (settings === this._settings) {
        this._setUnreachable();
      }
      return;
    }
    let identity: WhoAmIResponse | null = null;
    let rejected: RunlabRequestError | null = null;
    try {
      identity = await this.api.auth.whoAmI();
    } catch (error) {
      const status = error instanceof RunlabRequestError ? error.status : 0;
      if (status === 401 || status === 403) {
        rejected = error as RunlabRequestError;
      } else {
        if (settings === this._settings) {
          this._setUnreachable();
        }
        return;
      }
    }
    if (settings !== this._settings) {
      return; // settings changed while asking: the new connection answers for itself
    }
    this._serverVersion = health.version;
    this._serverId = health.serverId;
    this._identity = identity;
    if (isLocalServer(settings.serverUrl, this._local)) {
      this._localHealth = health;
    }
    if (rejected) {
      this._setSituation({ status: 'unauthorized', reason: rejected.message, runnerToken: rejected.status === 403 });
    } else if (!isCompatibleVersion(health.version)) {
      this._setSituation({ status: 'version-mismatch', serverVersion: health.version });
    } else {
      this._setSituation({ status: 'connected', identityName: identity?.name ?? '' });
    }
  }

  private _setUnreachable(): void {
    this._serverVersion = null;
    this._identity = null;
    this._serverId = null;
    if (isLocalServer(this._settings.serverUrl, this._local)) {
      this._localHealth = null;
    }
    this._setSituation({ status: 'unreachable' });
  }

  /**
   * Ask the local server whether it is up, now and every LOCAL_PROBE_MS while another server
   * is configured (when it is the configured one, the connection itself tells).
   */
  private _probeLocalServer(): void {
    clearTimeout(this._localTimer);
    // One chain of probes at a time: an answer to an earlier call is dropped.
    const probe = ++this._localProbe;
    const local = this._local;
    if (!local || isLocalServer(this._settings.serverUrl, local)) {
      this._render();
      return;
    }
    void serverHealth(local.url).then((health) => {
      if (probe !== this._localProbe) {
        return; // the local server or the settings changed meanwhile: a newer probe answers
      }
      this._localHealth = health;
      this._render();
      this._localTimer = setTimeout(() => this._probeLocalServer(), LOCAL_PROBE_MS);
    });
  }

  private _setSituation(situation: Situation): void {
    this._situation = situation;
    this._render();
  }

  /** The state of the situation, with the local server taken into account. */
  private _describe(): IConnectionState {
    const { serverUrl, token } = this._settings;
    const offer = offersLocalServer({
      serverUrl,
      token,
      local: this._local,
      localHealth: this._localHealth,
      configuredServerId: this._serverId,
      tokenRejected: this._situation.status === 'unauthorized'
    });
    const localRunning = this._localHealth !== null && isCompatibleVersion(this._localHealth.version);
    return {
      status: this._situation.status,
      serverUrl,
      serverVersion: this._serverVersion,
      identity: this._identity,
      message: describeSituation(this._situation, { serverUrl, token, local: this._local, localRunning }, offer),
      localServerUrl: offer && this._local ? this._local.url : null
    };
  }

  private _render(): void {
    const previous = this._state;
    const state = this._describe();
    this._state = state;
    if (
      previous.status !== state.status ||
      previous.message !== state.message ||
      previous.serverVersion !== state.serverVersion ||
      previous.localServerUrl !== state.localServerUrl
    ) {
      this._stateChanged.emit(state);
    }
  }

  private _closeSocket(): void {
    window.clearTimeout(this._retryTimer);
    if (this._socket) {
      this._socket.removeAllListeners();
      this._socket.offAny();
      this._socket.disconnect();
      this._socket = null;
    }
  }

  readonly frontendId = UUID.uuid4();
  private _rooms = new Map<string, { room: Room; count: number }>();
  private _settings: IConnectionSettings;
  private _situation: Situation;
  private _serverVersion: string | null = null;
  private _identity: WhoAmIResponse | null = null;
  /** Who the configured server said it is (its health answer), while it answers. */
  private _serverId: string | null = null;
  private _local: ILocalServer | null = null;
  private _localHealth: HealthResponse | null = null;
  private _localTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _localProbe = 0;
  private _state: IConnectionState;
  private _socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
  private _retryTimer: number | undefined = undefined;
  private _stateChanged = new Signal<IRunlabConnection, IConnectionState>(this);
  private _settingsChanged = new Signal<IRunlabConnection, IConnectionSettings>(this);
  private _events = new ServerEvents();
}
