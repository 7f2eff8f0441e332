/**
 * The compare view: picked runs side by side — a table that shows only what differs unless
 * asked (single-value metrics as numbers, the best highlighted), overlaid charts of the metrics
 * with curves, and a cell-by-cell diff of two runs' notebooks.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { Suspense, useEffect, useState } from 'react';
import type { CompareResponse, Run } from '../../server/src/contract';
import { formatValue } from '../shared/format';
import { runlabIcon } from '../shared/icons';
import { CompareChart } from '../shared/lazyCharts';
import { createMainAreaTab } from '../shared/mainArea';
import { IRunlabConnection } from '../tokens';
import { bestRule, chartPoints, CompareModel, compareRows, ICompareRow, isCurve } from './compareModel';
import { metricKeys } from './metrics';
import { diffNotebooks, ICellDiff } from './notebookDiff';

/** What a hidden-when-identical table says when no row differs. */
const NOTHING_DIFFERS = 'These runs have the same params, tags and metrics, and the same status, notebook and snapshot.';

function MetricLabel({ row }: { row: ICompareRow }): JSX.Element {
  const metric = row.metric!;
  const lower = metric.direction === 'lower';
  return (
    <>
      <span className="jp-runlab-Muted">metrics.</span>
      {row.label}
      {metric.kind === 'latest' && <span className="jp-runlab-Muted"> · latest</span>}{' '}
      <span className="jp-runlab-CompareDirection" aria-label={lower ? 'lower is better' : 'higher is better'}>
        {lower ? '↓' : '↑'}
      </span>
    </>
  );
}

function CompareRow({ row }: { row: ICompareRow }): JSX.Element {
  const metric = row.metric;
  const rule = metric ? bestRule(row.label) : undefined;
  return (
    <tr
      className={row.differs ? 'jp-runlab-mod-differs' : ''}
      data-row={`${row.group}.${row.label}`}
      data-metric-kind={metric?.kind}
      data-direction={metric?.direction}
    >
      <th scope="row" title={rule}>
        {metric ? (
          <MetricLabel row={row} />
        ) : (
          <>
            {row.group !== 'run' && <span className="jp-runlab-Muted">{row.group}.</span>}
            {row.label}
          </>
        )}
      </th>
      {row.values.map((value, index) => {
        if (!metric) {
          return <td key={index}>{value}</td>;
        }
        const best = metric.best[index];
        return (
          <td
            key={index}
            className={`jp-runlab-CompareNumber${best ? ' jp-runlab-mod-best' : ''}`}
            data-best={best || undefined}
            title={best ? `The best of these runs. ${rule}` : undefined}
          >
            {value}
            {best && (
              <>
                {' '}
                <span className="jp-runlab-BestMark">best</span>
              </>
            )}
          </td>
        );
      })}
    </tr>
  );
}

function CompareTable({ runs }: { runs: Run[] }): JSX.Element {
  // On by default: what a compare is for is what differs (as in MLflow's and W&B's compare views).
  const [onlyDifferences, setOnlyDifferences] = useState(true);
  const all = compareRows(runs, formatValue);
  const differing = all.filter((row) => row.differs);
  const rows = onlyDifferences ? differing : all;
  const hidden = all.length - differing.length;
  return (
    <section className="jp-runlab-RunSection" aria-label="Side by side">
      <div className="jp-runlab-SectionHeader">
        <h2>Side by side</h2>
        <label className="jp-runlab-Toggle">
          <input type="checkbox" checked={onlyDifferences} onChange={(event) => setOnlyDifferences(event.target.checked)} />
          Only differences
        </label>
        <span className="jp-runlab-Muted jp-runlab-CompareSummary">
          {onlyDifferences
            ? hidden === 0
              ? 'every row differs'
              : `${hidden} identical ${hidden === 1 ? 'row' : 'rows'} hidden`
            : `${differing.length} of ${all.length} rows differ`}
        </span>
      </div>
      {rows.length === 0 ? (
        <p className="jp-runlab-CompareSame" role="status">
          {NOTHING_DIFFERS} Clear “Only differences” to see every row.
        </p>
      ) : (
        <div className="jp-runlab-TableScroll">
          <table className={`jp-runlab-Table jp-runlab-CompareTable${onlyDifferences ? '' : ' jp-runlab-mod-all'}`}>
            <thead>
              <tr>
                <th />
                {runs.map((run, index) => (
                  <th key={run.id} scope="col">
                    <span className={`jp-runlab-SeriesSwatch jp-runlab-series-${index % 10}`} /> {run.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <CompareRow key={`${row.group}.${row.label}`} row={row} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Curves overlaid, one chart per metric; single-value metrics are numbers in the table instead. */
/** The metrics among `keys` whose latest value is the same in every run (and present in all). */
function sameIn(runs: readonly Run[], keys: readonly string[]): string[] {
  return keys.filter((key) => {
    const values = runs.map((run) => run.metrics[key]?.latest);
    return values.every((value) => value !== undefined && value === values[0]);
  });
}

function MetricCharts({ data }: { data: CompareResponse }): JSX.Element {
  const keys = metricKeys(data.runs);
  const curves = keys.filter((key) => isCurve(data.runs, key));
  const single = keys.filter((key) => !curves.includes(key));
  const equal = sameIn(data.runs, single);
  const differ = single.filter((key) => !equal.includes(key));
  return (
    <section className="jp-runlab-RunSection" aria-label="Metric charts">
      <h2>Metrics</h2>
      {keys.length === 0 && <p className="jp-runlab-Muted">These runs have no metrics.</p>}
      {single.length > 0 && (
        <p className="jp-runlab-Muted jp-runlab-CompareSingleNote">
          {curves.length === 0
            ? 'Every metric has one point per run, so the table compares them: '
            : 'One point per run, so the table compares them: '}
          {single.join(', ')}.
        </p>
      )}
      {single.length > 0 && (
        // What a re-run is for: which results came out the same and which did not.
        <p className="jp-runlab-CompareVerdict" role="status">
          {equal.length > 0 && <span data-verdict="equal">Equal in every run: {equal.join(', ')}. </span>}
          {differ.length > 0 && <span data-verdict="differ">Differ: {differ.join(', ')}.</span>}
        </p>
      )}
      <div className="jp-runlab-Charts">
        {curves.map((key) => (
          <figure key={key} className="jp-runlab-Chart" data-metric={key}>
            <figcaption>
              <strong>{key}</strong>
            </figcaption>
            <Suspense fallback={<div className="jp-runlab-ChartPlaceholder">Loading chart…</div>}>
              <CompareChart
                series={data.runs.map((run) => ({
                  runId: run.id,
                  label: run.name,
                  points: chartPoints(data.series[key]?.[run.id])
                }))}
              />
            </Suspense>
          </figure>
        ))}
      </div>
    </section>
  );
}

function CellDiffView({ diff }: { diff: ICellDiff[] }): JSX.Element {
  const changes = diff.filter((cell) => cell.kind !== 'same').length;
  return (
    <div className="jp-runlab-NotebookDiff">
      <p className="jp-runlab-Muted">{changes === 0 ? 'The notebooks are identical.' : `${changes} cell(s) differ.`}</p>
      {diff.map((cell, index) => (
        <div key={index} className={`jp-runlab-CellDiff jp-runlab-mod-${cell.kind}`} data-kind={cell.kind}>
          <div className="jp-runlab-CellDiff-label">
            {cell.kind === 'same' ? '' : cell.kind} {cell.cellType} cell
          </div>
          {cell.kind === 'changed' ? (
            <pre className="jp-runlab-Code">
              {cell.lines!.map((line, i) => (
                <span key={i} className={line.added ? 'jp-runlab-mod-added' : line.removed ? 'jp-runlab-mod-removed' : ''}>
                  {line.value}
                </span>
              ))}
            </pre>
          ) : (
            <pre className="jp-runlab-Code">{cell.after ?? cell.before}</pre>
          )}
        </div>
      ))}
    </div>
  );
}

function NotebookDiffSection({ model, runs }: { model: CompareModel; runs: Run[] }): JSX.Element {
  // Oldest first, so the default diff reads forward in time: from the earlier run to the later.
  const withSnapshot = runs.filter((run) => run.snapshot).sort((x, y) => x.startedAt.localeCompare(y.startedAt));
  const [a, setA] = useState(withSnapshot[0]?.id ?? '');
  const [b, setB] = useState(withSnapshot[1]?.id ?? withSnapshot[0]?.id ?? '');
  const [diff, setDiff] = useState<ICellDiff[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!a || !b) {
      return;
    }
    let cancelled = false;
    Promise.all([model.notebook(a), model.notebook(b)])
      .then(([before, after]) => !cancelled && setDiff(diffNotebooks(before.notebook, after.notebook)))
      .catch((reason) => !cancelled && setError(`Could not load the notebooks: ${(reason as Error).message}`));
    return () => {
      cancelled = true;
    };
  }, [a, b]);
  if (withSnapshot.length < 2) {
    return <p className="jp-runlab-Muted">Pick two runs with notebook snapshots to see their notebooks&apos; differences.</p>;
  }
  const picker = (value: string, set: (id: string) => void, label: string) => (
    <label>
      {label}{' '}
      <select className="jp-mod-styled" value={value} onChange={(event) => set(event.target.value)} aria-label={label}>
        {withSnapshot.map((run) => (
          <option key={run.id} value={run.id}>
            {run.name}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <>
      <div className="jp-runlab-Actions">
        {picker(a, setA, 'From')}
        {picker(b, setB, 'To')}
      </div>
      {error ? <p className="jp-runlab-Message">{error}</p> : diff ? <CellDiffView diff={diff} /> : <p>Loading…</p>}
    </>
  );
}

export function CompareBody({ model }: { model: CompareModel }): JSX.Element {
  return (
    <UseSignal signal={model.changed}>
      {() => {
        const data = model.data;
        if (!data) {
          return <div className="jp-runlab-RunView">{model.error ?? 'Loading runs…'}</div>;
        }
        return (
          <div className="jp-runlab-RunView jp-runlab-CompareView">
            <header className="jp-runlab-RunHeader">
              <h1>Compare {data.runs.length} runs</h1>
              {/* Named here too: with only differences shown, the table (and its names) may be empty. */}
              <ul className="jp-runlab-CompareRuns" aria-label="Compared runs">
                {data.runs.map((run, index) => (
                  <li key={run.id} data-run-id={run.id}>
                    <span className={`jp-runlab-SeriesSwatch jp-runlab-series-${index % 10}`} /> {run.name}
                  </li>
                ))}
              </ul>
            </header>
            <CompareTable runs={data.runs} />
            <MetricCharts data={data} />
            <section className="jp-runlab-RunSection" aria-label="Notebook differences">
              <h2>Notebook differences</h2>
              <NotebookDiffSection model={model} runs={data.runs} />
            </section>
          </div>
        );
      }}
    </UseSignal>
  );
}

export function createCompareView(connection: IRunlabConnection, runIds: string[]): MainAreaWidget {
  const model = new CompareModel(connection, runIds);
  const content = ReactWidget.create(<CompareBody model={model} />);
  return createMainAreaTab(content, {
    id: `runlab-compare-${runIds.join('-').slice(0, 80)}`,
    label: `Compare ${runIds.length} runs`,
    icon: runlabIcon
  });
}
