import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/**
 * One JSON line per event on stdout (pino's default), so logs can be piped to any collector.
 * Tests pass their own destination to capture or silence output.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'runlab-server' },
    // Secrets must never reach the log, even if a header object is logged by mistake.
    redact: ['req.headers.authorization', 'headers.authorization', 'secret', 'token.secret']
  };
  return destination ? pino(options, destination) : pino(options);
}
