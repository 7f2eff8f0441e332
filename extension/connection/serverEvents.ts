/**
 * The companion server's live events, one Lumino signal per event name, typed by the
 * contract's `ServerToClientEvents`. socket.io hands every event in at one place, `deliver`;
 * handlers connect with an owner, so `Signal.clearData(owner)` disconnects them.
 */
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import type { ServerEventName, ServerEventPayload } from '../tokens';

type EventSignals = { [K in ServerEventName]?: Signal<ServerEvents, ServerEventPayload<K>> };

export class ServerEvents implements IDisposable {
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Call `handler` (with `owner` as `this`) on each event `name`, until owner's data is cleared or the handle is disposed. */
  on<K extends ServerEventName>(name: K, handler: (payload: ServerEventPayload<K>) => void, owner: object): IDisposable {
    const signal = this._signal(name);
    const slot = (_: ServerEvents, payload: ServerEventPayload<K>) => handler.call(owner, payload);
    signal.connect(slot, owner);
    return new DisposableDelegate(() => signal.disconnect(slot, owner));
  }

  /** An event as socket.io received it. Names nobody listens to (or that the contract does not know) are dropped. */
  deliver<K extends ServerEventName>(name: K, payload: ServerEventPayload<K>): void {
    if (Object.hasOwn(this._signals, name)) {
      this._signals[name]?.emit(payload);
    }
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _signal<K extends ServerEventName>(name: K): Signal<ServerEvents, ServerEventPayload<K>> {
    // Seen through the one name asked for, so the new signal's type is checked against it.
    const signals: { [P in K]?: Signal<ServerEvents, ServerEventPayload<P>> } = this._signals;
    let signal = signals[name];
    if (!signal) {
      signal = new Signal<ServerEvents, ServerEventPayload<K>>(this);
      signals[name] = signal;
    }
    return signal;
  }

  private _signals: EventSignals = {};
  private _isDisposed = false;
}
