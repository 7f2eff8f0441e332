/**
 * What the sidebar models of server-owned lists (runners, models, deployments) share: the list
 * is read again on every (re)connect, so events missed while disconnected are covered; `loading`
 * and `error` say where a read stands; `changed` fires on every change. A subclass says how to
 * read (`load`) and applies its live events in between.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { IRunlabConnection } from '../tokens';
import { describeError } from './errors';

export abstract class ServerListModel implements IDisposable {
  /**
   * `what` names the list in an error ("the runners"); `api` is the feature whose API was asked,
   * for the advice describeError gives.
   */
  constructor(
    protected readonly connection: IRunlabConnection,
    private readonly _what: string,
    private readonly _api: string
  ) {
    connection.stateChanged.connect((_, state) => {
      if (state.status === 'connected') {
        void this.refresh();
      }
    }, this);
    if (connection.state.status === 'connected') {
      // Once the subclass's own fields are set, which happens after this constructor returns.
      queueMicrotask(() => void this.refresh());
    }
  }

  get loading(): boolean {
    return this._loading;
  }
  get error(): string | null {
    return this._error;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  async refresh(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      await this.load();
      this._error = null;
    } catch (error) {
      this._error = describeError(`Could not load ${this._what}`, error, this._api);
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Reads the list from the server and keeps it; a throw becomes `error`. */
  protected abstract load(): Promise<void>;

  protected emitChanged(): void {
    this._changed.emit();
  }

  private _loading = false;
  private _error: string | null = null;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}
