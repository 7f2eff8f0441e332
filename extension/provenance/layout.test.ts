/** The dagre wrapper: a lineage chain reads left to right, edges join the right boxes. */
import type { ProvenanceNode } from '../../server/src/contract';
import { edgePath, fitToWidth, layoutGraph, NODE_WIDTH } from './layout';

function node(ref: string, kind: ProvenanceNode['kind'], label: string): ProvenanceNode {
  return {
    ref,
    kind,
    label,
    detail: '',
    projectName: 'demo',
    createdAt: null,
    runId: null,
    datasetName: null,
    versionNumber: null,
    artifactPath: null,
    modelName: null
  };
}

const chain = [
  node('dataset_version:raw1', 'dataset_version', 'raw@v1'),
  node('run:data', 'run', 'prepare'),
  node('dataset_version:clean1', 'dataset_version', 'clean@v1'),
  node('run:train', 'run', 'train'),
  node('artifact:train/model.pkl', 'artifact', 'model.pkl')
];
const edges = chain.slice(1).map((to, index) => ({ from: chain[index].ref, to: to.ref }));

describe('layoutGraph', () => {
  it('puts upstream on the left and downstream on the right, without overlaps', () => {
    // Shuffled input must not change the order on screen.
    const layout = layoutGraph([...chain].reverse(), [...edges].reverse());
    const x = (ref: string) => layout.nodes.find((item) => item.node.ref === ref)!.x;
    for (let index = 1; index < chain.length; index++) {
      expect(x(chain[index].ref)).toBeGreaterThanOrEqual(x(chain[index - 1].ref) + NODE_WIDTH);
    }
    expect(layout.width).toBeGreaterThanOrEqual(x(chain[4].ref) + NODE_WIDTH);
    expect(layout.nodes.every((item) => item.x >= 0 && item.y >= 0)).toBe(true);
  });

  it('routes each edge from its source box to its target box', () => {
    const layout = layoutGraph(chain, edges);
    expect(layout.edges).toHaveLength(4);
    for (const edge of layout.edges) {
      const from = layout.nodes.find((item) => item.node.ref === edge.from)!;
      const to = layout.nodes.find((item) => item.node.ref === edge.to)!;
      const first = edge.points[0];
      const last = edge.points[edge.points.length - 1];
      expect(first.x).toBeCloseTo(from.x + from.width, 0);
      expect(last.x).toBeCloseTo(to.x, 0);
    }
  });

  it('branches: two runs using one dataset version stack vertically', () => {
    const nodes = [chain[0], node('run:a', 'run', 'a'), node('run:b', 'run', 'b')];
    const layout = layoutGraph(nodes, [
      { from: chain[0].ref, to: 'run:a' },
      { from: chain[0].ref, to: 'run:b' }
    ]);
    const [a, b] = ['run:a', 'run:b'].map((ref) => layout.nodes.find((item) => item.node.ref === ref)!);
    expect(a.x).toBe(b.x);
    expect(Math.abs(a.y - b.y)).toBeGreaterThanOrEqual(a.height);
  });

  it('drops edges to nodes the server cut off', () => {
    const layout = layoutGraph(chain.slice(0, 2), edges);
    expect(layout.edges.map((edge) => [edge.from, edge.to])).toEqual([[chain[0].ref, chain[1].ref]]);
  });
});

describe('drawing helpers', () => {
  it('draws a path that starts and ends at the edge points', () => {
    expect(edgePath([])).toBe('');
    expect(
      edgePath([
        { x: 0, y: 0 },
        { x: 10, y: 5 }
      ])
    ).toBe('M0,0 L10,5');
    const curved = edgePath([
      { x: 0, y: 0 },
      { x: 5, y: 5 },
      { x: 10, y: 0 }
    ]);
    expect(curved.startsWith('M0,0')).toBe(true);
    expect(curved.endsWith('10,0')).toBe(true);
  });

  it('cuts long labels with an ellipsis to the width they are measured at', () => {
    // A font where "W" is three times as wide as any other character.
    const measure = (text: string) => Array.from(text).reduce((width, char) => width + (char === 'W' ? 3 : 1), 0);
    expect(fitToWidth('short', 10, measure)).toBe('short');
    expect(fitToWidth('a-very-long-dataset-name', 10, measure)).toBe('a-very-lo\u2026');
    expect(fitToWidth('WWWWWWWWWW', 10, measure)).toBe('WWW\u2026');
    expect(measure(fitToWidth('aWaWaWaWaWaW', 10, measure))).toBeLessThanOrEqual(10);
    // No space left before the ellipsis, and no half of an emoji.
    expect(fitToWidth('abcd efghijkl', 6, measure)).toBe('abcd\u2026');
    expect(fitToWidth('\u{1F600}\u{1F600}\u{1F600}', 2, measure)).toBe('\u{1F600}\u2026');
  });
});
