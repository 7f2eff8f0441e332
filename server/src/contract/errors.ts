import { z } from 'zod';

/** Error body of every failed request: `{ "error": { "code", "message", "details" } }`. */
export const ErrorCode = z.enum([
  'invalid_json',
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  /** The path exists but not with this method (HTTP 405); the `Allow` header lists its methods. */
  'method_not_allowed',
  'conflict',
  'payload_too_large',
  /** Stored bytes no longer match their hash (HTTP 500); `runlab-server fsck` lists what is affected. */
  'data_corrupt',
  'internal',
  /** The server's disk (or quota) is full (HTTP 507); the request was not completed. */
  'insufficient_storage',
  /** Something the server depends on does not answer (HTTP 503): a Kubernetes API server, say. */
  'unavailable'
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const FieldProblem = z.strictObject({
  /** Dotted path of the offending field, e.g. `body.name` or `query.limit`. */
  path: z.string(),
  message: z.string()
});
export type FieldProblem = z.infer<typeof FieldProblem>;

export const ErrorResponse = z.strictObject({
  error: z.strictObject({
    code: ErrorCode,
    message: z.string(),
    details: z.array(FieldProblem).optional()
  })
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
