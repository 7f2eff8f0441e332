/**
 * socket.io: authenticated handshake (`io(url, { auth: { token } })`), rooms (`project:join`,
 * `run:join`, …) and forwarding of domain events to connected clients, to everyone or to the
 * rooms an event names. A refused handshake ends with an Error whose message is the
 * error code (`unauthorized` or `forbidden`) and whose `data` carries `{ code, message }`.
 *
 * Before any of that, every socket.io HTTP request (polling and websocket upgrade alike) must
 * come from an allowed browser origin (or none) and name this server in its Host header, the
 * same rules as for the REST API; otherwise it is answered 403 with the usual error envelope.
 */
import { STATUS_CODES, ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { z } from 'zod';
import {
  ProjectRoomPayload,
  RunRoomPayload,
  SocketAuth,
  type ClientToServerEvents,
  type RoomAck,
  type ServerToClientEvents
} from '../contract';
import { requireScope } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { AppError } from '../http/errors';
import { corsOptions, originRefusal } from '../http/cors';
import { hostRefusal } from '../http/hosts';
import type { Principal } from '../http/registry';
import type { Logger } from '../logger';
import { projectRoom, runRoom, type DomainEvents } from './events';

interface SocketData {
  principal: Principal;
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface RealtimeDeps {
  httpServer: HttpServer;
  auth: AuthService;
  events: DomainEvents;
  allowedOrigins: readonly string[];
  /** The names the server answers to (http/hosts.ts serverHostNames). */
  hostNames: readonly string[];
  logger: Logger;
}

/** How often connected sockets' tokens are checked for revocations made outside this server. */
const REVOKED_SWEEP_MS = 5000;

class HandshakeError extends Error {
  readonly data: { code: string; message: string };
  constructor(error: AppError) {
    super(error.code);
    this.data = { code: error.code, message: error.message };
  }
}

/** Answers a refused socket.io request with the error envelope, on either transport. */
function refuse(req: IncomingMessage, res: unknown, error: AppError): void {
  const body = JSON.stringify(error.toBody());
  if (res instanceof ServerResponse) {
    res.writeHead(error.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  // A websocket upgrade has no ServerResponse: answer on the raw connection, as `ws` does.
  const socket = req.socket;
  socket.on('error', () => undefined);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

export function attachRealtime({ httpServer, auth, events, allowedOrigins, hostNames, logger }: RealtimeDeps): RealtimeServer {
  const io: RealtimeServer = new Server(httpServer, {
    cors: corsOptions(allowedOrigins),
    serveClient: false
  });

  // engine.io middlewares run on every request of both transports, before any handshake.
  io.engine.use((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
    const refusal = hostRefusal(req.headers.host, hostNames) ?? originRefusal(req.headers.origin, allowedOrigins);
    if (!refusal) {
      next();
      return;
    }
    logger.info({ host: req.headers.host, origin: req.headers.origin, url: req.url }, 'refused live connection');
    refuse(req, res, refusal);
  });

  io.use((socket, next) => {
    try {
      const parsed = SocketAuth.safeParse(socket.handshake.auth);
      if (!parsed.success) {
        throw new AppError('unauthorized', 'Missing token: connect with io(url, { auth: { token: "<token>" } })');
      }
      const principal = auth.authenticate(parsed.data.token);
      // The default namespace carries user-facing events; runners get their own namespace.
      requireScope(principal, 'user');
      socket.data.principal = principal;
      next();
    } catch (error) {
      if (error instanceof AppError) {
        next(new HandshakeError(error));
      } else {
        logger.error({ err: error }, 'socket handshake failed');
        next(new HandshakeError(new AppError('internal', 'Internal server error')));
      }
    }
  });

  io.on('connection', (socket) => {
    logger.debug({ socketId: socket.id, tokenId: socket.data.principal.tokenId }, 'socket connected');

    /** A join/leave handler: a bad payload is ignored (acknowledged `ok: false`), logged at debug. */
    const roomHandler =
      <S extends z.ZodType>(event: string, schema: S, apply: (payload: z.output<S>) => void) =>
      (payload: unknown, ack?: unknown): void => {
        const reply = typeof ack === 'function' ? (ack as RoomAck) : typeof payload === 'function' ? (payload as RoomAck) : undefined;
        const parsed = schema.safeParse(payload);
        if (!parsed.success) {
          logger.debug({ socketId: socket.id, event, issues: parsed.error.issues }, 'ignored invalid socket payload');
          reply?.({ ok: false });
          return;
        }
        apply(parsed.data);
        reply?.({ ok: true });
      };

    socket.on(
      'project:join',
      roomHandler('project:join', ProjectRoomPayload, ({ projectId }) => socket.join(projectRoom(projectId)))
    );
    socket.on(
      'project:leave',
      roomHandler('project:leave', ProjectRoomPayload, ({ projectId }) => socket.leave(projectRoom(projectId)))
    );
    socket.on(
      'run:join',
      roomHandler('run:join', RunRoomPayload, ({ runId }) => socket.join(runRoom(runId)))
    );
    socket.on(
      'run:leave',
      roomHandler('run:leave', RunRoomPayload, ({ runId }) => socket.leave(runRoom(runId)))
    );
  });

  // A revoked token's sockets are cut off: at once when revoked through this server, and within
  // REVOKED_SWEEP_MS when revoked by the CLI, which writes the database directly.
  const cutOff = (tokenId: string): void => {
    for (const socket of io.of('/').sockets.values()) {
      if (socket.data.principal.tokenId !== tokenId) continue;
      socket.emit('auth:revoked', { code: 'unauthorized', message: 'This token was revoked; sign in with a valid token' });
      socket.disconnect(true);
      logger.info({ socketId: socket.id, tokenId }, 'socket of a revoked token disconnected');
    }
  };
  const unsubscribe = auth.onRevoked(cutOff);
  const sweep = setInterval(() => {
    const tokenIds = new Set([...io.of('/').sockets.values()].map((socket) => socket.data.principal.tokenId));
    for (const tokenId of tokenIds) if (!auth.isActive(tokenId)) cutOff(tokenId);
  }, REVOKED_SWEEP_MS);
  sweep.unref();
  httpServer.once('close', () => {
    clearInterval(sweep);
    unsubscribe();
  });

  // The bus belongs to one app instance, so this subscription lives exactly as long as the app.
  events.subscribe((event, payload, rooms) => {
    // Nobody watching these rooms: skip encoding the payload (live metric messages carry up to
    // thousands of points, and most batches arrive while no browser is looking).
    if (rooms && !rooms.some((room) => (io.sockets.adapter.rooms.get(room)?.size ?? 0) > 0)) return;
    // io.to([...]) sends once per socket even when it is in several of the rooms.
    const target = rooms ? io.to([...rooms]) : io;
    (target.emit as (event: string, payload: unknown) => boolean)(event, payload);
  });
  return io;
}
