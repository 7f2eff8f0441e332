/** Builds the OpenAPI 3.1 document from the route registry and the contract's zod schemas. */
import { z } from 'zod';
import { CHUNK_FRAME_HEADER_BYTES, CHUNKER, ChunkCodec, ErrorResponse, type ErrorCode } from '../contract';
import { STATUS_BY_CODE } from './errors';
import type { Route } from './registry';

type JsonSchema = Record<string, unknown>;

const ERROR_DESCRIPTION: Record<string, string> = {
  '400': 'Invalid request (malformed JSON or a field that fails validation)',
  '401': 'Missing, invalid or revoked bearer token',
  '403':
    "Refused: the token's scope may not do this, or the request's Host is not one of the server's names (a DNS-rebinding defence; RUNLAB_ALLOWED_HOSTS)",
  '404': 'Not found',
  '405': 'The path exists but does not take this method; the Allow header lists those it takes',
  '409': 'Conflicts with existing data',
  '413': 'Request body too large',
  '500': 'Internal server error',
  '507': "The server's disk is full; nothing was stored, try again once there is room"
};

/**
 * JSON Schema (draft 2020-12, which OpenAPI 3.1 uses) for one zod schema. Requests are described
 * as clients send them (`input`: defaults make fields optional), answers as the server sends them.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output', shared?: Record<string, JsonSchema>): JsonSchema {
  const { $schema: _ignored, $defs, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  if (!$defs) return rest;
  // A recursive schema (a JSON value, named with `.meta({ id })`) refers to itself by `#/$defs/…`,
  // which in an OpenAPI document would point at the document's root: its definitions move to
  // components.schemas, where such a name means the same schema in every operation.
  const hoisted = JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  for (const [name, definition] of Object.entries($defs as Record<string, JsonSchema>)) {
    if (shared) shared[name] = JSON.parse(JSON.stringify(definition).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  }
  return hoisted;
}

/** OpenAPI 3.1 spelling of "any bytes". */
const BINARY: JsonSchema = { type: 'string', contentMediaType: 'application/octet-stream' };

function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** Whether a parameter's schema lets it be a list (`?filter=a&filter=b`). */
function takesList(schema: JsonSchema): boolean {
  if (schema.type === 'array') return true;
  return Array.isArray(schema.anyOf) && (schema.anyOf as JsonSchema[]).some(takesList);
}

type ObjectSchema = { properties?: Record<string, JsonSchema>; required?: string[] };

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query', shared: Record<string, JsonSchema>): unknown[] {
  if (!schema) return [];
  // Parameters arrive as text, which the server reads into values (`z.coerce.number().pipe(...)`):
  // the document gives the values it takes (the output), and which parameters may be left out
  // (the input, where a default makes a parameter optional).
  const input = jsonSchemaOf(schema, 'input', shared) as ObjectSchema;
  const output = jsonSchemaOf(schema, 'output', shared) as ObjectSchema;
  return Object.entries(output.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (input.required ?? []).includes(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    // A list is the parameter repeated, once per item: what express's query parser reads.
    ...(location === 'query' && takesList(property) ? { style: 'form', explode: true } : {})
  }));
}

/** The JSON body limits a server runs with (config.ts), so the document can state them. */
export interface BodyLimits {
  maxBodyBytes: number;
  maxLargeBodyBytes: number;
}

/** How large a route's JSON body may be, in words, and in bytes when the server's limits are known. */
function jsonBodyLimitOf(route: Route, limits: BodyLimits | undefined): { text: string; bytes?: number } {
  const [setting, bytes] = route.largeBody
    ? ['RUNLAB_MAX_LARGE_BODY_BYTES', limits?.maxLargeBodyBytes]
    : ['RUNLAB_MAX_BODY_BYTES', limits?.maxBodyBytes];
  const size = bytes === undefined ? 'the limit' : `${bytes} bytes`;
  return { text: `At most ${size} of JSON (the server's ${setting}); a larger body is refused with 413.`, bytes };
}

function errorCodesOf(route: Route): Set<string> {
  const codes = new Set<ErrorCode>(route.errors ?? []);
  if (route.params || route.query || route.body) codes.add('invalid_request');
  if (route.body) {
    codes.add('invalid_json');
    codes.add('payload_too_large');
  }
  if (route.rawBody) {
    codes.add('invalid_request');
    codes.add('payload_too_large');
  }
  // Anything that stores something can find the disk full.
  if (route.method !== 'get') codes.add('insufficient_storage');
  if (route.scope !== 'public') codes.add('unauthorized');
  // Scopes, and on every route the Host check (http/hosts.ts).
  codes.add('forbidden');
  codes.add('internal');
  return new Set([...codes].map((code) => String(STATUS_BY_CODE[code])));
}

export function buildOpenApiDocument(routes: readonly Route[], version: string, limits?: BodyLimits): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  /** Named (recursive) schemas the operations refer to, for components.schemas. */
  const shared: Record<string, JsonSchema> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {
      [String(route.status)]: {
        description: route.status === 204 ? 'Done; no content' : (route.rawResponse?.description ?? 'Success'),
        ...(route.response ? { content: { 'application/json': { schema: jsonSchemaOf(route.response, 'output', shared) } } } : {}),
        ...(route.rawResponse
          ? {
              content: {
                [route.rawResponse.mediaType ?? 'application/octet-stream']: {
                  schema: route.rawResponse.mediaType?.startsWith('text/') ? { type: 'string' } : BINARY
                }
              }
            }
          : {})
      }
    };
    for (const status of [...errorCodesOf(route)].sort()) {
      responses[status] = {
        description: ERROR_DESCRIPTION[status],
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } }
      };
    }
    const limit = jsonBodyLimitOf(route, limits);
    const operation = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      security: route.scope === 'public' ? [] : [{ bearerToken: [] }],
      'x-runlab-scope': route.scope,
      parameters: [...parametersOf(route.params, 'path', shared), ...parametersOf(route.query, 'query', shared)],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              description: limit.text,
              ...(limit.bytes === undefined ? {} : { 'x-runlab-max-bytes': limit.bytes }),
              content: { 'application/json': { schema: jsonSchemaOf(route.body, 'input', shared) } }
            }
          }
        : {}),
      ...(route.rawBody
        ? {
            requestBody: {
              required: true,
              description: route.rawBody.description,
              ...(route.rawBody.maxBytes === undefined ? {} : { 'x-runlab-max-bytes': route.rawBody.maxBytes }),
              content: { 'application/octet-stream': { schema: BINARY } }
            }
          }
        : {}),
      responses
    };
    const openApiPath = toOpenApiPath(route.path);
    paths[openApiPath] = { ...paths[openApiPath], [route.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Runlab companion server',
      version,
      description:
        'REST API of the Runlab hub. Every route except /api/health needs `Authorization: Bearer <token>`. ' +
        'Every constraint the server checks is in these schemas (as patterns, bounds and descriptions); a request they ' +
        'allow is not refused for its form, only for what it refers to (404, 409). Unknown fields and query parameters are ' +
        'refused (400). A method a path does not take is answered 405 with an `Allow` header. Lengths count characters (Unicode code points, so an emoji is one). ' +
        "A request whose Host is not one of the server's names is refused (403)."
    },
    // What clients must agree on beyond the schemas; the Python client's copies are checked against these.
    'x-runlab-error-status': STATUS_BY_CODE,
    'x-runlab-chunker': CHUNKER,
    'x-runlab-chunk-frame': { headerBytes: CHUNK_FRAME_HEADER_BYTES, codecs: ChunkCodec },
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'A Runlab token: rl_a_… (admin), rl_u_… (user) or rl_r_… (runner)' }
      },
      schemas: { ...shared, ErrorResponse: jsonSchemaOf(ErrorResponse, 'output') }
    },
    paths
  };
}
