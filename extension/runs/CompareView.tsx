/**
 * The compare view: picked runs side by side — a table with an "only differences" toggle,
 * overlaid metric charts, and a cell-by-cell diff of two runs' notebooks.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { Suspense, useEffect, useState } from 'react';
import type { Run } from '../../server/src/contract';
import { formatValue } from '../shared/format';
import { runlabIcon } from '../shared/icons';
import { CompareChart } from '../shared/lazyCharts';
import { createMainAreaTab } from '../shared/mainArea';
import { IRunlabConnection } from '../tokens';
import { chartPoints, CompareModel, compareRows } from './compareModel';
import { metricKeys } from './metrics';
import { diffNotebooks, ICellDiff } from './notebookDiff';

function CompareTable({ runs }: { runs: Run[] }): JSX.Element {
  const [onlyDifferences, setOnlyDifferences] = useState(false);
  const rows = compareRows(runs, formatValue).filter((row) => !onlyDifferences || row.differs || row.group === 'run');
  return (
    <section className="jp-runlab-RunSection">
      <div className="jp-runlab-SectionHeader">
        <h2>Side by side</h2>
        <label className="jp-runlab-Toggle">
          <input type="checkbox" checked={onlyDifferences} onChange={(event) => setOnlyDifferences(event.target.checked)} />
          Only differences
        </label>
      </div>
      <div className="jp-runlab-TableScroll">
        <table className="jp-runlab-Table jp-runlab-CompareTable">
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
              <tr
                key={`${row.group}.${row.label}`}
                className={row.differs ? 'jp-runlab-mod-differs' : ''}
                data-row={`${row.group}.${row.label}`}
              >
                <th scope="row">
                  {row.group !== 'run' && <span className="jp-runlab-Muted">{row.group}.</span>}
                  {row.label}
                </th>
                {row.values.map((value, index) => (
                  <td key={index}>{value}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
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
        const keys = metricKeys(data.runs);
        return (
          <div className="jp-runlab-RunView jp-runlab-CompareView">
            <header className="jp-runlab-RunHeader">
              <h1>Compare {data.runs.length} runs</h1>
            </header>
            <CompareTable runs={data.runs} />
            <section className="jp-runlab-RunSection">
              <h2>Metrics</h2>
              {keys.length === 0 && <p className="jp-runlab-Muted">These runs have no metrics.</p>}
              <div className="jp-runlab-Charts">
                {keys.map((key) => (
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
