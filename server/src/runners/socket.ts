/**
 * The runner agents' socket.io namespace (RUNNERS_NAMESPACE): handshake with a runner token,
 * then `runner:hello`, heartbeats, drain, job events and completions from the agent; job offers,
 * cancel notices and `runner:revoked` to it. It shares the engine (and so its host and origin
 * checks) with the browsers' default namespace. It owns the timers that expire leases and
 * timeouts, stopped when the HTTP server closes.
 */
import type { Server as HttpServer } from 'node:http';
import type { Namespace, Socket } from 'socket.io';
import type { z } from 'zod';
import {
  RUNNERS_NAMESPACE,
  SocketAuth,
  type JobOffer,
  type RunnerAck,
  type RunnerClientEvents,
  type RunnerServerEvents
} from '../contract';
import type { AuthService } from '../auth/service';
import { AppError } from '../http/errors';
import type { Principal } from '../http/registry';
import type { Logger } from '../logger';
import { projectRoom, type DomainEvents } from '../realtime/events';
import type { RealtimeServer } from '../realtime/socket';
import { CompletePayload, HeartbeatPayload, JobEventsPayload, RunnerHello, type RunnerAgents } from './agents';
import type { JobLifecycle } from './lifecycle';
import { StaleAttemptError, type CancelNotice } from './scheduler';

interface RunnerSocketData {
  principal: Principal;
  /** Set by `runner:hello`. */
  runnerId: string | null;
}

type RunnerNamespace = Namespace<RunnerClientEvents, RunnerServerEvents, Record<string, never>, RunnerSocketData>;
type RunnerSocket = Socket<RunnerClientEvents, RunnerServerEvents, Record<string, never>, RunnerSocketData>;

/** How long an agent has to answer an offer before the job goes back to the queue. */
export const OFFER_ACK_MS = 5000;
/** How often sockets' tokens are checked for revocations made outside this server (the CLI). */
const REVOKED_SWEEP_MS = 5000;

export interface RunnerSocketDeps {
  io: RealtimeServer;
  httpServer: HttpServer;
  auth: AuthService;
  agents: RunnerAgents;
  lifecycle: JobLifecycle;
  events: DomainEvents;
  logger: Logger;
  /** How often leases and timeouts are checked. */
  tickMs: number;
}

class HandshakeError extends Error {
  readonly data: { code: string; message: string };
  constructor(error: AppError) {
    super(error.code);
    this.data = { code: error.code, message: error.message };
  }
}

export function attachRunnerSocket({ io, httpServer, auth, agents, lifecycle, events, logger, tickMs }: RunnerSocketDeps): void {
  const namespace = io.of(RUNNERS_NAMESPACE) as unknown as RunnerNamespace;

  namespace.use((socket, next) => {
    try {
      const parsed = SocketAuth.safeParse(socket.handshake.auth);
      if (!parsed.success) throw new AppError('unauthorized', 'Missing token: connect with io(url + "/runners", { auth: { token } })');
      const principal = auth.authenticate(parsed.data.token);
      if (principal.scope !== 'runner') {
        throw new AppError('forbidden', 'runner connections need a runner token: runlab runners add NAME');
      }
      socket.data.principal = principal;
      socket.data.runnerId = null;
      next();
    } catch (error) {
      if (error instanceof AppError) {
        next(new HandshakeError(error));
      } else {
        logger.error({ err: error }, 'runner handshake failed');
        next(new HandshakeError(new AppError('internal', 'Internal server error')));
      }
    }
  });

  const socketsOf = (runnerId: string): RunnerSocket[] =>
    [...namespace.sockets.values()].filter((socket) => socket.data.runnerId === runnerId);

  lifecycle.attach({
    offer(runnerId: string, offer: JobOffer): void {
      const [socket] = socketsOf(runnerId);
      if (!socket) {
        lifecycle.giveBack(offer.attemptId, 'the runner is not connected');
        agents.disconnected(runnerId);
        return;
      }
      socket.timeout(OFFER_ACK_MS).emit('job:offer', offer, (error: Error | null, reply?: { accepted?: unknown }) => {
        if (error || reply?.accepted !== true) {
          lifecycle.giveBack(offer.attemptId, error ? 'the runner did not answer the offer' : 'the runner declined the offer');
        }
      });
    },
    cancel(notice: CancelNotice): void {
      for (const socket of socketsOf(notice.runnerId)) socket.emit('job:cancel', { attemptId: notice.attemptId, outcome: notice.outcome });
    }
  });

  namespace.on('connection', (socket) => {
    const { principal } = socket.data;
    logger.debug({ socketId: socket.id, tokenId: principal.tokenId }, 'runner socket connected');

    /** Parses the payload, runs the handler, and acknowledges its answer or its error. */
    const on = <S extends z.ZodType, T extends object>(
      event: keyof RunnerClientEvents,
      schema: S,
      handle: (payload: z.output<S>) => T,
      needsHello = true
    ): void => {
      (socket.on as (event: string, listener: (payload: unknown, ack?: unknown) => void) => void)(event, (payload, ack) => {
        const reply = (typeof ack === 'function' ? ack : () => undefined) as RunnerAck<T>;
        try {
          if (needsHello && socket.data.runnerId === null) {
            throw new AppError('invalid_request', 'Say runner:hello first');
          }
          const parsed = schema.safeParse(payload);
          if (!parsed.success) {
            const issue = parsed.error.issues[0];
            throw new AppError('invalid_request', `Invalid ${event} payload: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
          }
          reply({ ok: true, ...handle(parsed.data) });
        } catch (error) {
          if (error instanceof StaleAttemptError) {
            reply({ ok: false, code: 'stale_attempt', message: error.message });
          } else if (error instanceof AppError) {
            reply({ ok: false, code: error.code, message: error.message });
          } else {
            logger.error({ err: error, event }, 'runner socket handler failed');
            reply({ ok: false, code: 'internal', message: 'Internal server error; the server log has details' });
          }
        }
      });
    };

    on(
      'runner:hello',
      RunnerHello,
      (hello) => {
        const welcome = agents.hello(principal.tokenId, principal.name, hello);
        socket.data.runnerId = welcome.runnerId;
        // Offers go out after the welcome, so the agent knows its heartbeat before its first job.
        setImmediate(() => lifecycle.dispatch());
        return welcome;
      },
      false
    );
    on('runner:heartbeat', HeartbeatPayload, ({ attempts }) => agents.heartbeat(socket.data.runnerId as string, attempts));
    on('runner:drain', HeartbeatPayload.partial().strip(), () => {
      agents.drain(socket.data.runnerId as string);
      return {};
    });
    on('job:event', JobEventsPayload, ({ attemptId, events: reported }) => {
      const { jobId, projectId } = agents.events(socket.data.runnerId as string, attemptId, reported);
      events.publishTo([projectRoom(projectId)], 'job:output', { jobId, attemptId, events: reported });
      return {};
    });
    on('job:complete', CompletePayload, (completion) => {
      agents.complete(socket.data.runnerId as string, completion);
      return {};
    });

    socket.on('disconnect', () => {
      const runnerId = socket.data.runnerId;
      if (runnerId && socketsOf(runnerId).every((other) => other.id === socket.id)) {
        try {
          agents.disconnected(runnerId);
        } catch (error) {
          logger.warn({ err: error, runnerId }, 'runner disconnect not recorded');
        }
      }
    });
  });

  // A revoked token's agent is told, then cut off: at once when revoked through this server
  // (removing a runner revokes its token), within REVOKED_SWEEP_MS when revoked by the CLI.
  const cutOff = (tokenId: string): void => {
    for (const socket of namespace.sockets.values()) {
      if (socket.data.principal.tokenId !== tokenId) continue;
      socket.emit('runner:revoked', { message: 'This runner was removed or its token revoked; add it again with runlab runners add NAME' });
      socket.disconnect(true);
      logger.info({ socketId: socket.id, tokenId }, 'runner of a revoked token disconnected');
    }
  };
  const unsubscribe = auth.onRevoked(cutOff);
  const sweep = setInterval(() => {
    const tokenIds = new Set([...namespace.sockets.values()].map((socket) => socket.data.principal.tokenId));
    for (const tokenId of tokenIds) if (!auth.isActive(tokenId)) cutOff(tokenId);
  }, REVOKED_SWEEP_MS);
  sweep.unref();
  const ticker = setInterval(() => {
    try {
      agents.tick();
    } catch (error) {
      logger.error({ err: error }, 'runner lease check failed');
    }
  }, tickMs);
  ticker.unref();
  httpServer.once('close', () => {
    clearInterval(sweep);
    clearInterval(ticker);
    unsubscribe();
    lifecycle.close();
  });
}
