/**
 * In-process bus of domain events. Services publish here without knowing about socket.io;
 * the realtime layer forwards each event to connected clients under the same `domain:verb` name.
 */
import type { ServerToClientEvents } from '../contract';

export type DomainEventName = keyof ServerToClientEvents;
export type DomainEventPayload<E extends DomainEventName> = Parameters<ServerToClientEvents[E]>[0];
export type DomainEventListener = <E extends DomainEventName>(event: E, payload: DomainEventPayload<E>) => void;

export class DomainEvents {
  private readonly listeners = new Set<DomainEventListener>();

  publish<E extends DomainEventName>(event: E, payload: DomainEventPayload<E>): void {
    for (const listener of this.listeners) listener(event, payload);
  }

  /** Returns a function that removes the listener. */
  subscribe(listener: DomainEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
