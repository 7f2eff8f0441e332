import { z } from 'zod';
import type { AuthEvents } from './auth';
import type { DatasetEvents } from './datasets';
import type { DeploymentEvents } from './deployments';
import type { ModelEvents } from './models';
import type { MonitoringEvents } from './monitoring';
import type { ProjectEvents } from './projects';
import type { RunnerPoolEvents } from './runnerPools';
import type { RunnerEvents } from './runners';
import type { RunEvents } from './runs';
import type { SweepEvents } from './sweeps';

/**
 * Every live event the server sends, named `domain:verb`: each feature declares its own in its
 * contract module, and this is their union (what socket.io and the extension are typed with).
 */
export interface ServerToClientEvents
  extends
    ProjectEvents,
    RunEvents,
    DatasetEvents,
    AuthEvents,
    RunnerEvents,
    RunnerPoolEvents,
    SweepEvents,
    ModelEvents,
    DeploymentEvents,
    MonitoringEvents {}

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
