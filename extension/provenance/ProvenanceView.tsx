/**
 * The provenance view (main area): what a run, dataset version or artifact was made from and
 * what was made from it, as a left-to-right graph (upstream → downstream) laid out with dagre
 * and drawn as SVG. Every node is a focusable button; the selected node's details show beside.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useLayoutEffect, useRef, useState } from 'react';
import type { ProvenanceNode, ProvenanceNodeKind } from '../../server/src/contract';
import { ErrorMessage } from '../shared/ErrorMessage';
import { formatTime } from '../shared/format';
import { provenanceIcon } from '../shared/icons';
import { KeyValueTable } from '../shared/KeyValueTable';
import { createMainAreaTab } from '../shared/mainArea';
import { IRunlabConnection } from '../tokens';
import { edgePath, fitToWidth, IGraphLayout, ILaidOutNode } from './layout';
import { ProvenanceModel } from './model';

export interface IProvenanceActions {
  openRun(runId: string): void;
  revealDatasetVersion(name: string, version: string): void;
  downloadArtifact(runId: string, path: string): void;
}

const KIND_NAMES: Record<ProvenanceNodeKind, string> = {
  dataset_version: 'dataset version',
  run: 'run',
  artifact: 'artifact',
  model_version: 'model version',
  deployment: 'deployment',
  alert: 'alert'
};

/** The kinds in the legend, in the order data flows: data → run → files and models → serving. */
const LEGEND: readonly { kind: ProvenanceNodeKind; label: string }[] = [
  { kind: 'dataset_version', label: 'dataset' },
  { kind: 'run', label: 'run' },
  { kind: 'artifact', label: 'artifact' },
  { kind: 'model_version', label: 'model' },
  { kind: 'deployment', label: 'deployment' }
];

/** Space between a node's edge and its text, left and right. */
const TEXT_INSET = 12;

let measuringCanvas: HTMLCanvasElement | null = null;

/**
 * One line of SVG text cut with an ellipsis to `maxWidth`, measured in the font it is drawn in
 * (read from its computed style, so theme and font settings are taken into account).
 */
function FittedText({
  text,
  maxWidth,
  className,
  x,
  y
}: {
  text: string;
  maxWidth: number;
  className: string;
  x: number;
  y: number;
}): JSX.Element {
  const ref = useRef<SVGTextElement>(null);
  const [shown, setShown] = useState(text);
  useLayoutEffect(() => {
    const element = ref.current;
    measuringCanvas ??= document.createElement('canvas');
    const context = measuringCanvas.getContext('2d');
    if (!element || !context) {
      setShown(text);
      return;
    }
    const style = getComputedStyle(element);
    context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const spacing = parseFloat(style.letterSpacing) || 0;
    const upper = style.textTransform === 'uppercase';
    const measure = (candidate: string) => {
      const drawn = upper ? candidate.toUpperCase() : candidate;
      // A pixel to spare: canvas and SVG text may round differently.
      return context.measureText(drawn).width + spacing * Array.from(drawn).length + 1;
    };
    setShown(fitToWidth(text, maxWidth, measure));
  }, [text, maxWidth]);
  return (
    <text ref={ref} className={className} x={x} y={y}>
      {shown}
    </text>
  );
}

function NodeShape({ kind, width, height }: { kind: ProvenanceNodeKind; width: number; height: number }): JSX.Element {
  if (kind === 'dataset_version') {
    // A cylinder: the usual picture of stored data.
    const rim = 7;
    return (
      <>
        <path
          className="jp-runlab-ProvShape"
          d={`M0,${rim} A${width / 2},${rim} 0 0 1 ${width},${rim} V${height - rim} A${width / 2},${rim} 0 0 1 0,${height - rim} Z`}
        />
        <path className="jp-runlab-ProvShape-line" d={`M0,${rim} A${width / 2},${rim} 0 0 0 ${width},${rim}`} />
      </>
    );
  }
  if (kind === 'artifact') {
    // A page with a folded corner: a file.
    const fold = 12;
    return (
      <>
        <path className="jp-runlab-ProvShape" d={`M0,0 H${width - fold} L${width},${fold} V${height} H0 Z`} />
        <path className="jp-runlab-ProvShape-line" d={`M${width - fold},0 V${fold} H${width}`} />
      </>
    );
  }
  if (kind === 'model_version') {
    // A hexagon: a packaged, immutable thing.
    const cut = Math.min(12, height / 2);
    return (
      <path
        className="jp-runlab-ProvShape"
        d={`M${cut},0 H${width - cut} L${width},${height / 2} L${width - cut},${height} H${cut} L0,${height / 2} Z`}
      />
    );
  }
  if (kind === 'deployment') {
    // A box with a status bar on top: something running somewhere.
    const bar = 6;
    return (
      <>
        <rect className="jp-runlab-ProvShape" width={width} height={height} rx={3} ry={3} />
        <path className="jp-runlab-ProvShape-line" d={`M0,${bar} H${width}`} />
      </>
    );
  }
  const radius = Math.min(10, height / 4);
  return <rect className="jp-runlab-ProvShape" width={width} height={height} rx={radius} ry={radius} />;
}

function GraphNode({
  item,
  isRoot,
  isSelected,
  onActivate
}: {
  item: ILaidOutNode;
  isRoot: boolean;
  isSelected: boolean;
  onActivate(node: ProvenanceNode): void;
}): JSX.Element {
  const { node, x, y, width, height } = item;
  const textTop = node.kind === 'dataset_version' ? 5 : 2;
  const textWidth = width - 2 * TEXT_INSET;
  return (
    <g
      className={`jp-runlab-ProvNode${isRoot ? ' jp-mod-root' : ''}${isSelected ? ' jp-mod-selected' : ''}`}
      data-ref={node.ref}
      data-kind={node.kind}
      data-label={node.label}
      transform={`translate(${x},${y})`}
      role="button"
      tabIndex={0}
      aria-label={`${KIND_NAMES[node.kind]} ${node.label}${node.detail ? `, ${node.detail}` : ''}${isRoot ? ' (centre of the graph)' : ''}`}
      aria-pressed={isSelected}
      onClick={() => onActivate(node)}
      onKeyDown={(event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          onActivate(node);
        }
      }}
    >
      <title>{`${node.label}\n${node.detail}`}</title>
      <rect className="jp-runlab-ProvRing" x={-5} y={-5} width={width + 10} height={height + 10} rx={12} ry={12} />
      <NodeShape kind={node.kind} width={width} height={height} />
      <FittedText
        className="jp-runlab-ProvKind"
        x={TEXT_INSET}
        y={textTop + 16}
        maxWidth={textWidth}
        text={`${KIND_NAMES[node.kind]}${isRoot ? ' · centre' : ''}`}
      />
      <FittedText className="jp-runlab-ProvLabel" x={TEXT_INSET} y={textTop + 34} maxWidth={textWidth} text={node.label} />
      <FittedText className="jp-runlab-ProvDetail" x={TEXT_INSET} y={textTop + 50} maxWidth={textWidth} text={node.detail} />
    </g>
  );
}

function Legend(): JSX.Element {
  return (
    <svg
      className="jp-runlab-ProvLegend"
      width={LEGEND.length * 110}
      height={22}
      role="img"
      aria-label="Legend: dataset versions, runs, artifacts, model versions, deployments"
    >
      {LEGEND.map(({ kind, label }, index) => (
        <g key={kind} className="jp-runlab-ProvNode" data-kind={kind} transform={`translate(${index * 110 + 1},2)`}>
          <NodeShape kind={kind} width={24} height={18} />
          <text className="jp-runlab-ProvDetail" x={30} y={14}>
            {label}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** Smallest zoom "fit" goes to; past it the graph scrolls (and pans) instead. */
const MIN_FIT_SCALE = 0.75;
const ZOOM_STEP = 1.25;

/** Scrollable, drag-to-pan, zoomable canvas; fits the graph (or centres the root) after each load. */
function GraphCanvas({
  layout,
  model,
  onActivate
}: {
  layout: IGraphLayout;
  model: ProvenanceModel;
  onActivate(node: ProvenanceNode): void;
}): JSX.Element {
  const scroller = useRef<HTMLDivElement>(null);
  const root = model.graph?.root;
  const [scale, setScale] = useState(1);
  const fitScale = () => {
    const element = scroller.current;
    if (!element) {
      return 1;
    }
    const fit = Math.min(1, (element.clientWidth - 8) / layout.width, (element.clientHeight - 8) / layout.height);
    return Math.max(MIN_FIT_SCALE, fit);
  };
  // A new graph: fit it, then bring the root into the middle of what is visible.
  useLayoutEffect(() => {
    setScale(fitScale());
  }, [layout]);
  useLayoutEffect(() => {
    const element = scroller.current;
    const item = layout.nodes.find((candidate) => candidate.node.ref === root);
    if (element && item) {
      element.scrollLeft = (item.x + item.width / 2) * scale - element.clientWidth / 2;
      element.scrollTop = (item.y + item.height / 2) * scale - element.clientHeight / 2;
    }
  }, [layout, root, scale]);
  const drag = useRef<{ x: number; y: number; left: number; top: number } | null>(null);
  return (
    <div className="jp-runlab-ProvCanvasFrame">
      <div className="jp-runlab-ProvZoom" role="group" aria-label="Zoom">
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          aria-label="Zoom out"
          onClick={() => setScale((value) => Math.max(0.2, value / ZOOM_STEP))}
        >
          −
        </button>
        <span className="jp-runlab-Muted" aria-live="polite">
          {Math.round(scale * 100)}%
        </span>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          aria-label="Zoom in"
          onClick={() => setScale((value) => Math.min(2, value * ZOOM_STEP))}
        >
          +
        </button>
        <button className="jp-Button jp-mod-styled jp-runlab-Small" onClick={() => setScale(fitScale())}>
          Fit
        </button>
      </div>
      <div
        ref={scroller}
        className="jp-runlab-ProvCanvas"
        onPointerDown={(event) => {
          if ((event.target as Element).closest('.jp-runlab-ProvNode') || event.button !== 0) {
            return;
          }
          const element = scroller.current!;
          drag.current = { x: event.clientX, y: event.clientY, left: element.scrollLeft, top: element.scrollTop };
          element.setPointerCapture(event.pointerId);
          element.classList.add('jp-mod-panning');
        }}
        onPointerMove={(event) => {
          const start = drag.current;
          if (start) {
            scroller.current!.scrollLeft = start.left - (event.clientX - start.x);
            scroller.current!.scrollTop = start.top - (event.clientY - start.y);
          }
        }}
        onPointerUp={(event) => {
          drag.current = null;
          scroller.current?.releasePointerCapture(event.pointerId);
          scroller.current?.classList.remove('jp-mod-panning');
        }}
      >
        <svg
          className="jp-runlab-ProvGraph"
          width={layout.width * scale}
          height={layout.height * scale}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="group"
          aria-label="Provenance graph, upstream on the left"
          data-root={root}
        >
          <defs>
            <marker
              id="jp-runlab-ProvArrow"
              viewBox="0 0 10 10"
              refX={9}
              refY={5}
              markerWidth={8}
              markerHeight={8}
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" className="jp-runlab-ProvArrowHead" />
            </marker>
          </defs>
          <g>
            {layout.edges.map((edge) => (
              <path
                key={`${edge.from}→${edge.to}`}
                className={`jp-runlab-ProvEdge${model.selected && (edge.from === model.selected.ref || edge.to === model.selected.ref) ? ' jp-mod-selected' : ''}`}
                data-from={edge.from}
                data-to={edge.to}
                d={edgePath(edge.points)}
                markerEnd="url(#jp-runlab-ProvArrow)"
              />
            ))}
          </g>
          <g>
            {layout.nodes.map((item) => (
              <GraphNode
                key={item.node.ref}
                item={item}
                isRoot={item.node.ref === root}
                isSelected={item.node.ref === model.selected?.ref}
                onActivate={onActivate}
              />
            ))}
          </g>
        </svg>
      </div>
    </div>
  );
}

function Details({ node, model, actions }: { node: ProvenanceNode; model: ProvenanceModel; actions: IProvenanceActions }): JSX.Element {
  const rows: [string, string][] = [
    ['Kind', KIND_NAMES[node.kind]],
    ['Name', node.label],
    ['Detail', node.detail],
    ['Project', node.projectName],
    ...(node.createdAt ? ([['Created', formatTime(node.createdAt)]] as [string, string][]) : []),
    ...(node.runId ? ([[node.kind === 'run' ? 'Run id' : 'Made by run', node.runId]] as [string, string][]) : []),
    ...(node.artifactPath ? ([['Path', node.artifactPath]] as [string, string][]) : [])
  ];
  return (
    <aside className="jp-runlab-ProvDetails" aria-label="Selected node" data-ref={node.ref}>
      <h2>{node.label}</h2>
      <KeyValueTable entries={rows} />
      <div className="jp-runlab-Actions">
        {node.kind === 'run' && node.runId && (
          <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={() => actions.openRun(node.runId!)}>
            Open run
          </button>
        )}
        {node.kind === 'dataset_version' && node.datasetName && node.versionNumber !== null && (
          <button
            className="jp-Button jp-mod-styled"
            onClick={() => actions.revealDatasetVersion(node.datasetName!, `v${node.versionNumber}`)}
          >
            Show in Datasets
          </button>
        )}
        {node.kind === 'artifact' && node.runId && node.artifactPath && (
          <button
            className="jp-Button jp-mod-styled jp-mod-accept"
            onClick={() => actions.downloadArtifact(node.runId!, node.artifactPath!)}
          >
            Download
          </button>
        )}
        {node.ref !== model.root && (
          <button className="jp-Button jp-mod-styled" onClick={() => void model.recenter(node.ref)}>
            Centre graph here
          </button>
        )}
      </div>
    </aside>
  );
}

export function ProvenanceBody({ model, actions }: { model: ProvenanceModel; actions: IProvenanceActions }): JSX.Element {
  const onActivate = (node: ProvenanceNode) => {
    if (node.kind === 'run') {
      model.select(node.ref);
      if (node.runId) {
        actions.openRun(node.runId);
      }
    } else if (node.kind === 'dataset_version') {
      void model.recenter(node.ref);
      if (node.datasetName && node.versionNumber !== null) {
        actions.revealDatasetVersion(node.datasetName, `v${node.versionNumber}`);
      }
    } else {
      void model.recenter(node.ref);
    }
  };
  return (
    <UseSignal signal={model.changed}>
      {() => {
        const { graph, layout } = model;
        const rootNode = model.rootNode;
        const selected = model.selected;
        return (
          <div className="jp-runlab-ProvView" data-root={model.root} data-loading={model.loading}>
            <header className="jp-runlab-ProvHeader">
              <h1>Provenance{rootNode ? ` of ${rootNode.label}` : ''}</h1>
              <Legend />
              <span className="jp-runlab-ProvHeader-spacer" />
              {model.loading && <span className="jp-runlab-Muted">Loading…</span>}
              <button className="jp-Button jp-mod-styled jp-runlab-Small" disabled={!model.canGoBack} onClick={() => void model.back()}>
                Back
              </button>
              <button className="jp-Button jp-mod-styled jp-runlab-Small" onClick={() => void model.load()}>
                Reload
              </button>
            </header>
            {model.error && (
              <div className="jp-runlab-ProvMessage">
                <ErrorMessage message={model.error} onRetry={() => void model.load()} />
              </div>
            )}
            {!graph && !model.error && <p className="jp-runlab-ProvMessage jp-runlab-Muted">Loading the graph…</p>}
            {graph && layout && (
              <>
                {graph.edges.length === 0 && (
                  <p className="jp-runlab-ProvMessage jp-runlab-Muted">
                    Nothing is recorded as made from or used by {rootNode?.label ?? 'this'} yet. Runs record their inputs when they load a
                    dataset with <code>{'runlab.dataset("name@v1")'}</code>, and their outputs when they commit one or log an artifact.
                  </p>
                )}
                {graph.truncated && (
                  <p className="jp-runlab-ProvMessage jp-runlab-Muted">
                    The graph was cut at {graph.nodes.length} nodes. Centre it on another node to see further.
                  </p>
                )}
                <div className="jp-runlab-ProvBody">
                  <GraphCanvas layout={layout} model={model} onActivate={onActivate} />
                  {selected && <Details node={selected} model={model} actions={actions} />}
                </div>
              </>
            )}
          </div>
        );
      }}
    </UseSignal>
  );
}

export function createProvenanceView(connection: IRunlabConnection, node: string, actions: IProvenanceActions): MainAreaWidget {
  const model = new ProvenanceModel(connection, node);
  const content = ReactWidget.create(<ProvenanceBody model={model} actions={actions} />);
  content.addClass('jp-runlab-ProvViewContainer');
  const widget = createMainAreaTab(content, { id: `runlab-provenance-${node}`, label: 'Provenance', icon: provenanceIcon });
  model.changed.connect(() => {
    const root = model.rootNode;
    if (root) {
      widget.title.label = `Provenance: ${root.label}`;
      widget.title.caption = `What ${root.label} was made from and what was made from it`;
    }
  }, widget);
  widget.disposed.connect(() => model.dispose());
  return widget;
}
