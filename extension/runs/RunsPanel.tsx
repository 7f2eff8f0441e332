/**
 * The Runs sidebar: the current project's runs (or only the current notebook's), live, with
 * status, latest metrics and sparklines; select runs to compare. Virtualized, so 10,000 runs
 * scroll smoothly.
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useMemo, useState } from 'react';
import { FixedSizeList, ListChildComponentProps } from 'react-window';
import { formatDuration } from '../shared/format';
import { Sparkline } from '../shared/Sparkline';
import { CompareButton } from './CompareButton';
import { IRunListRow, nestRuns } from './nesting';
import { latest, metricKeys } from './metrics';
import { IRunsModel } from './tokens';
import { useElementHeight } from '../shared/useElementHeight';
import { JOB_TAGS } from '../../server/src/contract/jobTags';

const ROW_HEIGHT = 54;
/** Metrics shown per row; the run view shows them all. */
const ROW_METRICS = 2;

export interface IRunsPanelProps {
  model: IRunsModel;
  /** Path of the notebook in focus, for the "This notebook" filter. */
  currentNotebook: () => string | null;
  notebookChanged: import('@lumino/signaling').ISignal<unknown, unknown>;
  /** The metrics chosen as the runs table's columns (its first two); the panel shows those first. */
  chosenMetrics?: () => string[];
  columnsChanged?: import('@lumino/signaling').ISignal<unknown, unknown>;
  openRun(runId: string): void;
  /** A sweep's row opens its sweep page (the plugin opens the run when the sweeps feature is off). */
  openSweep?(sweepId: string, runId: string): void;
  compare(runIds: string[]): void;
  /** The runs ticked in the list, for "Compare Selected Runs" in the palette and menu. */
  selectionChanged?(runIds: string[]): void;
}

interface IRowData {
  rows: readonly IRunListRow[];
  keys: string[];
  selected: ReadonlySet<string>;
  toggle(id: string): void;
  model: IRunsModel;
  openRun(id: string): void;
  openSweep?(sweepId: string, runId: string): void;
  toggleChildren(id: string): void;
}

/** "on gpu-box", and the attempt when the job was retried: "on gpu-box · attempt 2". */
function runnerBadge(runner: string, attempts: string | undefined): string {
  return attempts && attempts !== '1' ? `on ${runner} · attempt ${attempts}` : `on ${runner}`;
}

function RunRow({ index, style, data }: ListChildComponentProps<IRowData>): JSX.Element {
  const { run, depth, children, expanded, sweepId } = data.rows[index];
  const openSweep = sweepId && data.openSweep ? data.openSweep : null;
  const keys = data.keys.filter((key) => key in run.metrics).slice(0, ROW_METRICS);
  useEffect(() => {
    keys.forEach((key) => void data.model.loadSparkline(run.id, key));
  }, [run.id, keys.join('\n')]);
  return (
    <div
      style={style}
      className="jp-runlab-RunRow"
      data-run-id={run.id}
      data-status={run.status}
      data-depth={depth}
      data-sweep={sweepId ?? undefined}
    >
      <input
        type="checkbox"
        aria-label={`Select ${run.name} to compare`}
        checked={data.selected.has(run.id)}
        onChange={() => data.toggle(run.id)}
      />
      {children > 0 && (
        <button
          className="jp-runlab-RunRow-children"
          aria-expanded={expanded}
          aria-label={`${expanded ? 'Hide' : 'Show'} the ${children} ${sweepId ? 'trials' : 'child runs'} of ${run.name}`}
          onClick={() => data.toggleChildren(run.id)}
        >
          {expanded ? '▾' : '▸'} {children}
        </button>
      )}
      <button
        className="jp-runlab-RunRow-main"
        onClick={() => (openSweep ? openSweep(sweepId as string, run.id) : data.openRun(run.id))}
        title={openSweep ? `Open the sweep ${run.name}` : `Open ${run.name}`}
      >
        <div className="jp-runlab-RunRow-title">
          <span className={`jp-runlab-RunStatus jp-runlab-mod-${run.status}`} title={run.status} />
          <span className="jp-runlab-RunRow-name">{run.name}</span>
          {sweepId && (
            <span
              className="jp-runlab-RunRow-runner"
              title={`A sweep of ${children} trials: open it for the best trial and which parameters matter`}
            >
              sweep
            </span>
          )}
          {run.tags[JOB_TAGS.runner] && (
            <span
              className="jp-runlab-RunRow-runner"
              title={`Ran as a job on runner ${run.tags[JOB_TAGS.runner]}, attempt ${run.tags[JOB_TAGS.attempts] ?? '1'}`}
            >
              {runnerBadge(run.tags[JOB_TAGS.runner], run.tags[JOB_TAGS.attempts])}
            </span>
          )}
          <span className="jp-runlab-RunRow-time">{formatDuration(run)}</span>
        </div>
        <div className="jp-runlab-RunRow-metrics">
          {keys.map((key) => (
            <span key={key} className="jp-runlab-RunRow-metric" data-metric={key}>
              <span className="jp-runlab-RunRow-metricKey">{key}</span>
              <span className="jp-runlab-RunRow-metricValue">{latest(run.metrics[key])}</span>
              <Sparkline values={data.model.sparkline(run.id, key)} />
            </span>
          ))}
          {keys.length === 0 && (
            <span className="jp-runlab-RunRow-empty">{run.status === 'running' ? 'waiting for metrics…' : 'no metrics'}</span>
          )}
        </div>
      </button>
    </div>
  );
}

function RunsList(props: IRunsPanelProps & { scope: 'notebook' | 'project' }): JSX.Element {
  const { model } = props;
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [listRef, height] = useElementHeight();
  const notebook = props.currentNotebook();
  const runs = useMemo(
    () => (props.scope === 'notebook' ? model.runs.filter((run) => run.notebookPath === notebook) : model.runs),
    [model.runs, props.scope, notebook]
  );
  const chosenMetrics = props.chosenMetrics?.() ?? [];
  const keys = useMemo(() => {
    const common = metricKeys(runs.slice(0, 200));
    return [...chosenMetrics, ...common.filter((key) => !chosenMetrics.includes(key))];
  }, [runs, chosenMetrics.join('\n')]);
  // Running runs show a growing duration: redraw once a second while any is running.
  const anyRunning = runs.some((run) => run.status === 'running');
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!anyRunning) {
      return;
    }
    const timer = window.setInterval(() => setTick((tick) => tick + 1), 1000);
    return () => window.clearInterval(timer);
  }, [anyRunning]);
  const toggle = (id: string) =>
    setSelected((previous) => {
      const next = new Set(previous);
      if (next.has(id)) {
        next.delete(id);
      } else {
        next.add(id);
      }
      return next;
    });
  const toggleChildren = (id: string) =>
    setExpanded((previous) => {
      const next = new Set(previous);
      if (!next.delete(id)) {
        next.add(id);
      }
      return next;
    });
  const rows = useMemo(() => nestRuns(runs, expanded), [runs, expanded]);
  const chosen = runs.filter((run) => selected.has(run.id)).map((run) => run.id);
  useEffect(() => props.selectionChanged?.(chosen), [chosen.join('\n')]);
  return (
    <>
      <div className="jp-runlab-RunsToolbar">
        <span className="jp-runlab-RunsCount">
          {props.scope === 'project' && model.total > runs.length
            ? `newest ${runs.length.toLocaleString('en-US')} of ${model.total.toLocaleString('en-US')} runs`
            : `${runs.length.toLocaleString('en-US')} run${runs.length === 1 ? '' : 's'}`}
        </span>
        <CompareButton runIds={chosen} className="jp-runlab-CompareButton" compare={(ids) => props.compare(ids)} />
      </div>
      {model.error && <p className="jp-runlab-Message">{model.error}</p>}
      <div className="jp-runlab-RunsList" ref={listRef} role="list" aria-label="Runs">
        {runs.length === 0 && !model.loading ? (
          <p className="jp-runlab-Message">
            {props.scope === 'notebook'
              ? 'No runs from this notebook yet. Start one with `runlab.start()` or a `%%track` cell.'
              : 'No runs in this project yet.'}
          </p>
        ) : (
          <FixedSizeList
            height={height}
            width="100%"
            itemCount={rows.length}
            itemSize={ROW_HEIGHT}
            itemData={{ rows, keys, selected, toggle, model, openRun: props.openRun, openSweep: props.openSweep, toggleChildren }}
            itemKey={(index, data) => data.rows[index].run.id}
            overscanCount={8}
          >
            {RunRow}
          </FixedSizeList>
        )}
      </div>
    </>
  );
}

export function RunsPanelView(props: IRunsPanelProps): JSX.Element {
  const [scope, setScope] = useState<'notebook' | 'project'>('project');
  return (
    <div className="jp-runlab-RunsPanelBody">
      <div className="jp-runlab-Segmented" role="radiogroup" aria-label="Which runs">
        {(['project', 'notebook'] as const).map((value) => (
          <button
            key={value}
            role="radio"
            aria-checked={scope === value}
            className={scope === value ? 'jp-mod-active' : ''}
            onClick={() => setScope(value)}
          >
            {value === 'project' ? 'Project' : 'This notebook'}
          </button>
        ))}
      </div>
      <UseSignal signal={props.notebookChanged}>
        {() => (
          <UseSignal signal={props.columnsChanged ?? props.model.changed}>
            {() => <UseSignal signal={props.model.changed}>{() => <RunsList {...props} scope={scope} />}</UseSignal>}
          </UseSignal>
        )}
      </UseSignal>
    </div>
  );
}
