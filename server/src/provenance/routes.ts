import { provenanceApi } from '../contract';
import { implement, type Route } from '../http/registry';
import type { ProvenanceService } from './service';

export function provenanceRoutes(provenance: ProvenanceService): Route[] {
  return implement(provenanceApi, {
    getProvenance: ({ query }) => provenance.graph(query.node, query.direction, query.depth)
  });
}
