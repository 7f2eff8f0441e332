import { z } from 'zod';
import { DatasetCommittedEvent, DatasetDeletedEvent } from './datasets';
import { Project } from './projects';
import { Run, RunMetricsEvent } from './runs';

export interface ServerToClientEvents {
  'project:created': (project: Project) => void;
  'project:updated': (project: Project) => void;
  'project:deleted': (payload: { id: string }) => void;
  /** To the project's room. */
  'run:created': (run: Run) => void;
  /** To the project's room: status, name, params, tags, inputs/outputs, artifacts or snapshot changed. */
  'run:updated': (run: Run) => void;
  'run:deleted': (payload: { id: string; projectId: string }) => void;
  /** To the project's room and the run's room; coalesced to ≤ 10 per second per run. */
  'run:metrics': (payload: RunMetricsEvent) => void;
  /** To the project's room. */
  'dataset:committed': (payload: DatasetCommittedEvent) => void;
  /** To the project's room: a version (`number`) or a whole dataset (`number` null) was deleted. */
  'dataset:deleted': (payload: DatasetDeletedEvent) => void;
  /** To one socket, just before the server disconnects it because its token was revoked. */
  'auth:revoked': (payload: { code: 'unauthorized'; message: string }) => void;
}

export const ProjectRoomPayload = z.strictObject({ projectId: z.string().min(1).max(100) });
export const RunRoomPayload = z.strictObject({ runId: z.string().min(1).max(100) });

/** Optional acknowledgement of a join/leave: `ok` is false when the payload was invalid. */
export type RoomAck = (reply: { ok: boolean }) => void;

/**
 * Rooms: a client joins a project to see its runs live, and a run to stream its points.
 * The acknowledgement is optional; await it (`socket.emitWithAck`) to know events will flow.
 */
export interface ClientToServerEvents {
  'project:join': (payload: { projectId: string }, ack?: RoomAck) => void;
  'project:leave': (payload: { projectId: string }, ack?: RoomAck) => void;
  'run:join': (payload: { runId: string }, ack?: RoomAck) => void;
  'run:leave': (payload: { runId: string }, ack?: RoomAck) => void;
}

/** socket.io handshake: `io(url, { auth: { token } })`. */
export const SocketAuth = z.strictObject({ token: z.string().min(1) });
