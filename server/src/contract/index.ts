/**
 * The one contract between Runlab's parts: every request body, response and socket event.
 *
 * The server validates with these schemas, the OpenAPI document at /api/openapi.json is
 * generated from them, and the extension imports their inferred types (type-only, so no zod
 * code reaches the browser bundle). Keep this module free of server-only imports.
 */
import { z } from 'zod';

/** Error body of every failed request: `{ "error": { "code", "message", "details" } }`. */
export const ErrorCode = z.enum([
  'invalid_json',
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'internal'
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

// ---------------------------------------------------------------------------------------------
// health

export const HealthResponse = z.strictObject({
  status: z.literal('ok'),
  /** The companion server's version; the extension warns when it differs from its own. */
  version: z.string()
});
export type HealthResponse = z.infer<typeof HealthResponse>;

// ---------------------------------------------------------------------------------------------
// auth: tokens

export const TokenScope = z.enum(['user', 'runner']);
export type TokenScope = z.infer<typeof TokenScope>;

export const TokenInfo = z.strictObject({
  id: z.string(),
  name: z.string(),
  scope: TokenScope,
  /** First characters of the secret, so a user can tell tokens apart; never the secret. */
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable()
});
export type TokenInfo = z.infer<typeof TokenInfo>;

export const TokenName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w .@-]+$/, 'use letters, digits, spaces and . _ - @');

export const CreateTokenRequest = z.strictObject({
  name: TokenName,
  scope: TokenScope.default('user')
});
export type CreateTokenRequest = z.input<typeof CreateTokenRequest>;

export const CreateTokenResponse = z.strictObject({
  token: TokenInfo,
  /** The secret, shown once; only its hash is stored. */
  secret: z.string()
});
export type CreateTokenResponse = z.infer<typeof CreateTokenResponse>;

export const TokenListResponse = z.strictObject({ tokens: z.array(TokenInfo) });
export type TokenListResponse = z.infer<typeof TokenListResponse>;

/** Who the presented token belongs to: GET /api/auth/whoami. */
export const WhoAmIResponse = z.strictObject({
  tokenId: z.string(),
  name: z.string(),
  scope: TokenScope
});
export type WhoAmIResponse = z.infer<typeof WhoAmIResponse>;

// ---------------------------------------------------------------------------------------------
// projects

export const ProjectName = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'start with a letter or digit; use letters, digits, . _ -'
  );

export const Project = z.strictObject({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The head commit of the project's git repository. */
  headCommit: z.string().nullable()
});
export type Project = z.infer<typeof Project>;

export const CreateProjectRequest = z.strictObject({
  name: ProjectName,
  description: z.string().max(2000).default('')
});
export type CreateProjectRequest = z.input<typeof CreateProjectRequest>;

export const UpdateProjectRequest = z.strictObject({
  name: ProjectName.optional(),
  description: z.string().max(2000).optional()
});
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

export const ProjectListQuery = z.strictObject({
  /** Exact project name, to find one project by name. */
  name: z.string().optional()
});

export const ProjectListResponse = z.strictObject({ projects: z.array(Project) });
export type ProjectListResponse = z.infer<typeof ProjectListResponse>;

export const IdParams = z.strictObject({ id: z.string().min(1).max(100) });

// ---------------------------------------------------------------------------------------------
// socket.io events, named domain:verb

export interface ServerToClientEvents {
  'project:created': (project: Project) => void;
  'project:updated': (project: Project) => void;
  'project:deleted': (payload: { id: string }) => void;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClientToServerEvents {}

/** socket.io handshake: `io(url, { auth: { token } })`. */
export const SocketAuth = z.strictObject({ token: z.string().min(1) });
