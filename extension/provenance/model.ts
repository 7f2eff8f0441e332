/**
 * ProvenanceModel: the provenance graph around one node (its root), laid out. Re-centering
 * loads the graph around another node; Back returns to the previous root.
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { ProvenanceGraph, ProvenanceNode } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { IRunlabConnection } from '../tokens';
import type { IGraphLayout } from './layout';

/** How far the graph reaches either way from its root. */
export const PROVENANCE_DEPTH = 20;

export class ProvenanceModel {
  constructor(
    private readonly _connection: IRunlabConnection,
    root: string
  ) {
    this._root = root;
    this._selected = root;
    void this.load();
  }

  get root(): string {
    return this._root;
  }

  get graph(): ProvenanceGraph | null {
    return this._graph;
  }

  get layout(): IGraphLayout | null {
    return this._layout;
  }

  get loading(): boolean {
    return this._loading;
  }

  get error(): string | null {
    return this._error;
  }

  get canGoBack(): boolean {
    return this._history.length > 0;
  }

  get selected(): ProvenanceNode | null {
    return this._graph?.nodes.find((node) => node.ref === this._selected) ?? null;
  }

  get rootNode(): ProvenanceNode | null {
    return this._graph?.nodes.find((node) => node.ref === this._graph?.root) ?? null;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  select(ref: string): void {
    this._selected = ref;
    this._changed.emit();
  }

  /** Load the graph around another node, keeping the current root for Back. */
  recenter(ref: string): Promise<void> {
    if (ref === this._root) {
      this.select(ref);
      return Promise.resolve();
    }
    this._history.push(this._root);
    this._root = ref;
    this._selected = ref;
    return this.load();
  }

  back(): Promise<void> {
    const previous = this._history.pop();
    if (!previous) {
      return Promise.resolve();
    }
    this._root = previous;
    this._selected = previous;
    return this.load();
  }

  async load(): Promise<void> {
    const root = this._root;
    this._loading = true;
    this._changed.emit();
    try {
      const graph = await this._connection.api.provenance.getProvenance({
        query: { node: root, direction: 'both', depth: PROVENANCE_DEPTH }
      });
      // dagre is loaded with the first graph, not with JupyterLab.
      const { layoutGraph } = await import('./layout');
      if (root !== this._root) {
        return; // a newer request is on its way
      }
      this._graph = graph;
      this._layout = layoutGraph(graph.nodes, graph.edges);
      this._error = null;
    } catch (error) {
      if (root !== this._root) {
        return;
      }
      this._error = describeError('Could not load the provenance graph', error, 'provenance');
    } finally {
      if (root === this._root) {
        this._loading = false;
        this._changed.emit();
      }
    }
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _root: string;
  private _selected: string;
  private _history: string[] = [];
  private _graph: ProvenanceGraph | null = null;
  private _layout: IGraphLayout | null = null;
  private _loading = false;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}
