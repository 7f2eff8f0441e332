/**
 * Provenance: a graph of what was made from what. Edges join node refs (`kind:id`) and are all
 * recorded through link(); each kind has a resolver that turns ids into nodes, registered by the
 * feature that owns the kind (runs: `run` and `artifact`, datasets: `dataset_version`), so this
 * module knows no feature's tables and new kinds leave the traversal unchanged.
 */
import type { ProvenanceEdge, ProvenanceGraph, ProvenanceNode, ProvenanceNodeKind } from '../contract';
import { notFound } from '../http/errors';
import type { ProvenanceStore } from './store';

/** Nodes for the ids of one kind that exist; missing ids are left out. */
export type ProvenanceResolver = (ids: readonly string[]) => ProvenanceNode[];

export type ProvenanceDirection = 'upstream' | 'downstream' | 'both';

/** A graph answer holds at most this many nodes (then `truncated`). */
export const MAX_PROVENANCE_NODES = 500;

function splitRef(ref: string): [string, string] {
  const colon = ref.indexOf(':');
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

export class ProvenanceService {
  private readonly resolvers = new Map<string, ProvenanceResolver>();

  constructor(
    private readonly store: ProvenanceStore,
    private readonly now: () => Date = () => new Date()
  ) {}

  /** Makes nodes of `kind` resolvable (a feature registers its own kind). */
  register(kind: ProvenanceNodeKind, resolver: ProvenanceResolver): void {
    this.resolvers.set(kind, resolver);
  }

  /** Records that `from` was used to make `to`; repeating it is harmless. */
  link(projectId: string, from: string, to: string): void {
    this.store.link(projectId, from, to, this.now().toISOString());
  }

  /**
   * The graph around `root`: its ancestors (upstream), descendants (downstream) or both, up to
   * `depth` edges away, breadth first, cut at MAX_PROVENANCE_NODES nodes. Edges to nodes that
   * no longer resolve are left out.
   */
  graph(root: string, direction: ProvenanceDirection, depth: number): ProvenanceGraph {
    const [rootNode] = this.resolve([root]).values();
    if (!rootNode) throw notFound(`Provenance node ${root}`);
    const nodes = new Map<string, ProvenanceNode>([[root, rootNode]]);
    const edges = new Map<string, ProvenanceEdge>();
    let truncated = false;

    const walk = (upstream: boolean): void => {
      const visited = new Set([root]);
      let frontier = [root];
      for (let level = 0; level < depth && frontier.length > 0; level++) {
        const found = upstream ? this.store.edgesTo(frontier) : this.store.edgesFrom(frontier);
        const unseen = [...new Set(found.map(([from, to]) => (upstream ? from : to)))].filter((ref) => !nodes.has(ref));
        const resolved = this.resolve(unseen);
        const next: string[] = [];
        for (const [from, to] of found) {
          const other = upstream ? from : to;
          if (!nodes.has(other)) {
            const node = resolved.get(other);
            if (!node) continue;
            if (nodes.size >= MAX_PROVENANCE_NODES) {
              truncated = true;
              continue;
            }
            nodes.set(other, node);
          }
          edges.set(`${from}\n${to}`, { from, to });
          if (!visited.has(other)) {
            visited.add(other);
            next.push(other);
          }
        }
        frontier = next;
      }
    };
    if (direction !== 'downstream') walk(true);
    if (direction !== 'upstream') walk(false);
    return { root, nodes: [...nodes.values()], edges: [...edges.values()], truncated };
  }

  /** ref → node for the refs that exist, one resolver call per kind. */
  private resolve(refs: readonly string[]): Map<string, ProvenanceNode> {
    const byKind = new Map<string, string[]>();
    for (const ref of refs) {
      const [kind, id] = splitRef(ref);
      if (!byKind.has(kind)) byKind.set(kind, []);
      (byKind.get(kind) as string[]).push(id);
    }
    const resolved = new Map<string, ProvenanceNode>();
    for (const [kind, ids] of byKind) {
      const resolver = this.resolvers.get(kind);
      if (!resolver) continue;
      for (const node of resolver(ids)) resolved.set(node.ref, node);
    }
    return resolved;
  }
}
