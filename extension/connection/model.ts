/**
 * ConnectionModel: the extension's link to the companion server.
 *
 * socket.io is the liveness source: it reconnects by itself with back-off when the server goes
 * away and comes back. Each (re)connect is followed by a REST check of the server's version and
 * of who the token belongs to, so the state names exactly what a user must fix.
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
import { EXTENSION_VERSION, isCompatibleVersion } from '../version';
import { ServerEvents } from './serverEvents';

/** How often to try again while the token is rejected (socket.io gives up on auth errors). */
const UNAUTHORIZED_RETRY_MS = 10000;

export class ConnectionModel implements IRunlabConnection {
  constructor(settings: IConnectionSettings) {
    this._settings = settings;
    this._state = this._initialState();
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

  on<K extends ServerEventName>(name: K, handler: (payload: ServerEventPayload<K>) => void, owner: object): IDisposable {
    return this._events.on(name, handler, owner);
  }

  /** Apply new settings; reconnects only if something that matters changed. */
  configure(settings: IConnectionSettings): void {
    const changed = settings.serverUrl !== this._settings.serverUrl || settings.token !== this._settings.token;
    this._settings = settings;
    if (changed || !this._socket) {
      this.reconnect();
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
    if (!this._settings.serverUrl) {
      this._setState(this._initialState());
      return;
    }
    this._setState({
      ...this._state,
      status: 'connecting',
      serverUrl: this._settings.serverUrl,
      message: `Connecting to ${this._settings.serverUrl}…`
    });
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
    this._events.dispose();
    Signal.clearData(this);
  }

  /** Ask the server over REST what it is and who we are; sets the resulting state. */
  private async _verify(): Promise<void> {
    const serverUrl = this._settings.serverUrl;
    let health: HealthResponse;
    try {
      health = await this.api.health.getHealth();
    } catch {
      this._setUnreachable();
      return;
    }
    let identity: WhoAmIResponse | null = null;
    try {
      identity = await this.api.auth.whoAmI();
    } catch (error) {
      const status = error instanceof RunlabRequestError ? error.status : 0;
      if (status === 401 || status === 403) {
        this._setState({
          status: 'unauthorized',
          serverUrl,
          serverVersion: health.version,
          identity: null,
          message:
            status === 403
              ? 'This token may not be used here (it is a runner token). Sign in with a user token.'
              : `The server rejected the token (${(error as Error).message}). Sign in with a valid token: create one with \`npx runlab-server token create --name <you>\`.`
        });
      } else {
        this._setUnreachable();
      }
      return;
    }
    if (!isCompatibleVersion(health.version)) {
      this._setState({
        status: 'version-mismatch',
        serverUrl,
        serverVersion: health.version,
        identity,
        message: `The server runs Runlab ${health.version} but this extension is ${EXTENSION_VERSION}. Upgrade the older one so both match.`
      });
      return;
    }
    this._setState({
      status: 'connected',
      serverUrl,
      serverVersion: health.version,
      identity,
      message: `Connected to ${serverUrl} as ${identity.name}.`
    });
  }

  private _setUnreachable(): void {
    this._setState({
      status: 'unreachable',
      serverUrl: this._settings.serverUrl,
      serverVersion: null,
      identity: null,
      message: `Cannot reach the Runlab server at ${this._settings.serverUrl}. Start it with \`npm start\` (or \`npx runlab-server serve\`), or check the server URL in Settings → Runlab. Retrying…`
    });
  }

  private _initialState(): IConnectionState {
    return {
      status: this._settings.serverUrl ? 'connecting' : 'not-configured',
      serverUrl: this._settings.serverUrl,
      serverVersion: null,
      identity: null,
      message: this._settings.serverUrl
        ? `Connecting to ${this._settings.serverUrl}…`
        : 'No Runlab server configured. Sign in to set its URL and token.'
    };
  }

  private _setState(state: IConnectionState): void {
    const previous = this._state;
    this._state = state;
    if (previous.status !== state.status || previous.message !== state.message || previous.serverVersion !== state.serverVersion) {
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
  private _state: IConnectionState;
  private _socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
  private _retryTimer: number | undefined = undefined;
  private _stateChanged = new Signal<IRunlabConnection, IConnectionState>(this);
  private _events = new ServerEvents();
}
