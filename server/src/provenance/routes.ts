import { ProvenanceGraph, ProvenanceQuery } from '../contract';
import { defineRoute, type Route } from '../http/registry';
import type { ProvenanceService } from './service';

export function provenanceRoutes(provenance: ProvenanceService): Route[] {
  return [
    defineRoute({
      operationId: 'getProvenance',
      method: 'get',
      path: '/api/provenance',
      summary: 'What a node was made from (upstream) and what was made from it (downstream), up to 500 nodes',
      tag: 'provenance',
      scope: 'any',
      query: ProvenanceQuery,
      status: 200,
      response: ProvenanceGraph,
      errors: ['not_found'],
      handle: ({ query }) => provenance.graph(query.node, query.direction, query.depth)
    })
  ];
}
