/**
 * The one error type and the one error handler. Every failed request answers
 * `{ "error": { "code", "message", "details" } }`; nothing else (no stack traces) ever leaks.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ErrorCode, ErrorResponse, FieldProblem } from '../contract';
import type { Logger } from '../logger';

/** The one code → HTTP status table (the OpenAPI document states it as `x-runlab-error-status`). */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  data_corrupt: 500,
  internal: 500,
  insufficient_storage: 507,
  unavailable: 503
};

/** An operational error: something the client can act on, answered with its code and status. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldProblem[]
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS_BY_CODE[code];
  }

  toBody(): ErrorResponse {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {})
      }
    };
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);

/** A 400 naming each field's problem (the message joins them). */
export const invalid = (problems: FieldProblem[]): AppError =>
  new AppError('invalid_request', problems.map((problem) => problem.message).join('; '), problems);

/** Unknown routes answer JSON like every other error, pointing at the API description. */
export const unknownRouteHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No route ${req.method} ${req.path}; the API is described at /api/openapi.json`));
};

/** body-parser reports its failures as http-errors with a `type`; map them to our codes. */
function fromBodyParser(error: {
  type?: string;
  limit?: number;
  message?: string;
  /** Which setting holds the limit; set by the parser that raised it (see app.ts). */
  setting?: string;
}): AppError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError('invalid_json', `Request body is not valid JSON: ${error.message ?? 'parse error'}`);
    case 'entity.too.large':
      return new AppError(
        'payload_too_large',
        `Request body exceeds the limit of ${error.limit} bytes (${error.setting ?? 'RUNLAB_MAX_BODY_BYTES'})`
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('invalid_request', 'Request body must be UTF-8 encoded JSON');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('invalid_request', 'Request body could not be read');
    default:
      return undefined;
  }
}

/** Errors of a full disk or quota: from the file system, and from SQLite. */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL']);

/** The 507 answer for a full disk or quota, or undefined for any other error. */
export function storageFull(error: unknown): AppError | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string' || !STORAGE_FULL_CODES.has(code)) return undefined;
  return new AppError(
    'insufficient_storage',
    `The Runlab server ran out of disk space (${code}); this request was not completed and nothing from it is visible. ` +
      "Free space in the server's data directory, then try again (a dataset commit resumes where it stopped)."
  );
}

export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const log = (req as { log?: Logger }).log ?? logger;
    let appError: AppError;
    if (error instanceof AppError) {
      appError = error;
    } else {
      const mapped = typeof error === 'object' && error !== null ? fromBodyParser(error as { type?: string }) : undefined;
      const full = storageFull(error);
      if (mapped) {
        appError = mapped;
      } else if (full) {
        // Not a bug, but the operator must act: logged as an error, answered with what to do.
        log.error({ err: error }, 'out of disk space');
        appError = full;
      } else {
        // A programmer error: log everything, answer nothing the client could misuse.
        log.error({ err: error }, 'unhandled error');
        appError = new AppError(
          'internal',
          `Internal server error; the server log has details (request id ${String(res.getHeader('x-request-id') ?? 'unknown')})`
        );
      }
    }
    res.status(appError.status).json(appError.toBody());
  };
}
