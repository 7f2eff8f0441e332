/**
 * Provenance graph layout with dagre: left to right, upstream to downstream. Pure (no DOM), so
 * it is unit-tested; the view only draws what this returns.
 */
import { graphlib, layout } from '@dagrejs/dagre';
import type { ProvenanceEdge, ProvenanceNode } from '../../server/src/contract';

export const NODE_WIDTH = 160;
export const NODE_HEIGHT = 64;
const MARGIN = 24;

export interface IPoint {
  x: number;
  y: number;
}

export interface ILaidOutNode {
  node: ProvenanceNode;
  /** Top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ILaidOutEdge {
  from: string;
  to: string;
  points: IPoint[];
}

export interface IGraphLayout {
  nodes: ILaidOutNode[];
  edges: ILaidOutEdge[];
  width: number;
  height: number;
}

/**
 * Lay the graph out. Edges naming a node that is not in the graph (cut by the server's node
 * limit) are left out rather than drawn to nowhere.
 */
export function layoutGraph(nodes: readonly ProvenanceNode[], edges: readonly ProvenanceEdge[]): IGraphLayout {
  const graph = new graphlib.Graph<
    Record<string, unknown>,
    { width: number; height: number; x?: number; y?: number },
    { points?: IPoint[] }
  >({
    multigraph: false
  });
  graph.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 40, edgesep: 12, marginx: MARGIN, marginy: MARGIN });
  graph.setDefaultEdgeLabel(() => ({}));
  // Insertion order feeds dagre's ordering heuristics: sort so equal graphs lay out equally.
  const sorted = [...nodes].sort((a, b) => a.ref.localeCompare(b.ref));
  for (const node of sorted) {
    graph.setNode(node.ref, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  const known = new Set(sorted.map((node) => node.ref));
  const kept = edges
    .filter((edge) => known.has(edge.from) && known.has(edge.to) && edge.from !== edge.to)
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  for (const edge of kept) {
    graph.setEdge(edge.from, edge.to);
  }
  layout(graph);
  const laidOut = sorted.map((node) => {
    const box = graph.node(node.ref);
    return { node, x: (box.x ?? 0) - box.width / 2, y: (box.y ?? 0) - box.height / 2, width: box.width, height: box.height };
  });
  const laidOutEdges = kept.map((edge) => ({ from: edge.from, to: edge.to, points: graph.edge(edge.from, edge.to)?.points ?? [] }));
  const label = graph.graph() as { width?: number; height?: number };
  return {
    nodes: laidOut,
    edges: laidOutEdges,
    width: Math.max(label.width ?? 0, NODE_WIDTH + 2 * MARGIN),
    height: Math.max(label.height ?? 0, NODE_HEIGHT + 2 * MARGIN)
  };
}

/** An SVG path through an edge's points, rounded at the bends. */
export function edgePath(points: readonly IPoint[]): string {
  if (!points.length) {
    return '';
  }
  const [first, ...rest] = points;
  if (rest.length < 2) {
    return `M${first.x},${first.y}` + rest.map((point) => ` L${point.x},${point.y}`).join('');
  }
  // Quadratic curves through the midpoints: smooth, and still ends exactly at the last point.
  let path = `M${first.x},${first.y}`;
  for (let index = 0; index < rest.length - 1; index++) {
    const control = rest[index];
    const next = rest[index + 1];
    const mid = index === rest.length - 2 ? next : { x: (control.x + next.x) / 2, y: (control.y + next.y) / 2 };
    path += ` Q${control.x},${control.y} ${mid.x},${mid.y}`;
  }
  return path;
}

/**
 * `text`, or its longest prefix with an ellipsis, whose `measure`d width is at most `maxWidth`.
 * Characters differ in width, so a character count cannot promise a fit; the view measures in
 * the font the text is drawn in.
 */
export function fitToWidth(text: string, maxWidth: number, measure: (candidate: string) => number): string {
  if (measure(text) <= maxWidth) {
    return text;
  }
  // Whole code points, so an emoji is never cut in half.
  const chars = Array.from(text);
  const cut = (count: number) => `${chars.slice(0, count).join('').trimEnd()}\u2026`;
  let low = 0;
  let high = chars.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (measure(cut(middle)) <= maxWidth) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return cut(low);
}
