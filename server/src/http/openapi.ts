/** Builds the OpenAPI 3.1 document from the route registry and the contract's zod schemas. */
import { z } from 'zod';
import { ErrorResponse, type ErrorCode } from '../contract';
import type { Route } from './registry';

type JsonSchema = Record<string, unknown>;

const ERROR_STATUS: Record<ErrorCode, string> = {
  invalid_json: '400',
  invalid_request: '400',
  unauthorized: '401',
  forbidden: '403',
  not_found: '404',
  conflict: '409',
  payload_too_large: '413',
  data_corrupt: '500',
  internal: '500',
  insufficient_storage: '507'
};

const ERROR_DESCRIPTION: Record<string, string> = {
  '400': 'Invalid request (malformed JSON or a field that fails validation)',
  '401': 'Missing, invalid or revoked bearer token',
  '403': 'The token is valid but its scope may not use this route',
  '404': 'Not found',
  '409': 'Conflicts with existing data',
  '413': 'Request body too large',
  '500': 'Internal server error',
  '507': "The server's disk is full; nothing was stored, try again once there is room"
};

/**
 * JSON Schema (draft 2020-12, which OpenAPI 3.1 uses) for one zod schema. Requests are described
 * as clients send them (`input`: defaults make fields optional), answers as the server sends them.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** OpenAPI 3.1 spelling of "any bytes". */
const BINARY: JsonSchema = { type: 'string', contentMediaType: 'application/octet-stream' };

function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const json = jsonSchemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {})
  }));
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
  if (route.scope === 'user' || route.scope === 'runner') codes.add('forbidden');
  codes.add('internal');
  return new Set([...codes].map((code) => ERROR_STATUS[code]));
}

export function buildOpenApiDocument(routes: readonly Route[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {
      [String(route.status)]: {
        description: route.status === 204 ? 'Done; no content' : (route.rawResponse?.description ?? 'Success'),
        ...(route.response
          ? { content: { 'application/json': { schema: jsonSchemaOf(route.response, 'output') } } }
          : {}),
        ...(route.rawResponse ? { content: { 'application/octet-stream': { schema: BINARY } } } : {})
      }
    };
    for (const status of [...errorCodesOf(route)].sort()) {
      responses[status] = {
        description: ERROR_DESCRIPTION[status],
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } }
      };
    }
    const operation = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      security: route.scope === 'public' ? [] : [{ bearerToken: [] }],
      'x-runlab-scope': route.scope,
      parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchemaOf(route.body, 'input') } }
            }
          }
        : {}),
      ...(route.rawBody
        ? {
            requestBody: {
              required: true,
              description: route.rawBody.description,
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
        'REST API of the Runlab hub. Every route except /api/health needs `Authorization: Bearer <token>`.'
    },
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'A Runlab token (rl_u_… or rl_r_…)' }
      },
      schemas: { ErrorResponse: jsonSchemaOf(ErrorResponse, 'output') }
    },
    paths
  };
}
