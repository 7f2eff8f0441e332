/**
 * In-process bus of domain events. Services publish here without knowing about socket.io;
 * the realtime layer forwards each event to connected clients under the same `domain:verb` name,
 * either to every user socket or only to the rooms the event names.
 */
import type { ServerToClientEvents } from '../contract';

export type DomainEventName = keyof ServerToClientEvents;
export type DomainEventPayload<E extends DomainEventName> = Parameters<ServerToClientEvents[E]>[0];
/** `rooms` undefined: every user socket; otherwise only sockets in at least one of the rooms. */
export type DomainEventListener = <E extends DomainEventName>(
  event: E,
  payload: DomainEventPayload<E>,
  rooms: readonly string[] | undefined
) => void;

/** The room of a project's sockets: they see its runs come, change and go. */
export const projectRoom = (projectId: string): string => `project:${projectId}`;
/** The room of one run's sockets: they stream its metric points. */
export const runRoom = (runId: string): string => `run:${runId}`;

export class DomainEvents {
  private readonly listeners = new Set<DomainEventListener>();

  /** Publishes to every user socket (project lists are small and everyone sees them). */
  publish<E extends DomainEventName>(event: E, payload: DomainEventPayload<E>): void {
    for (const listener of this.listeners) listener(event, payload, undefined);
  }

  /** Publishes only to sockets that joined one of `rooms` (each socket gets it once). */
  publishTo<E extends DomainEventName>(rooms: readonly string[], event: E, payload: DomainEventPayload<E>): void {
    for (const listener of this.listeners) listener(event, payload, rooms);
  }

  /** Returns a function that removes the listener. */
  subscribe(listener: DomainEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
