/**
 * socket.io: authenticated handshake (`io(url, { auth: { token } })`) and forwarding of domain
 * events to connected clients. A refused handshake ends with an Error whose message is the
 * error code (`unauthorized` or `forbidden`) and whose `data` carries `{ code, message }`.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { SocketAuth, type ClientToServerEvents, type ServerToClientEvents } from '../contract';
import { requireScope } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { AppError } from '../http/errors';
import { corsOptions } from '../http/cors';
import type { Principal } from '../http/registry';
import type { Logger } from '../logger';
import type { DomainEvents } from './events';

interface SocketData {
  principal: Principal;
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface RealtimeDeps {
  httpServer: HttpServer;
  auth: AuthService;
  events: DomainEvents;
  allowedOrigins: readonly string[];
  logger: Logger;
}

class HandshakeError extends Error {
  readonly data: { code: string; message: string };
  constructor(error: AppError) {
    super(error.code);
    this.data = { code: error.code, message: error.message };
  }
}

export function attachRealtime({ httpServer, auth, events, allowedOrigins, logger }: RealtimeDeps): RealtimeServer {
  const io: RealtimeServer = new Server(httpServer, {
    cors: corsOptions(allowedOrigins),
    serveClient: false
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
  });

  // The bus belongs to one app instance, so this subscription lives exactly as long as the app.
  events.subscribe((event, payload) => {
    (io.emit as (event: string, payload: unknown) => boolean)(event, payload);
  });
  return io;
}
