/**
 * The run view (main area): params, metric charts with zoom, inputs and outputs, artifacts,
 * environment, and the notebook version the run was pinned to, with Open / Restore.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { Suspense, useState } from 'react';
import type { Run, RunIO } from '../../server/src/contract';
import { formatBytes, formatDuration, formatTime, formatValue } from '../shared/format';
import { runlabIcon } from '../shared/icons';
import { KeyValueTable } from '../shared/KeyValueTable';
import { MetricChart } from '../shared/lazyCharts';
import { createMainAreaTab } from '../shared/mainArea';
import { JOB_TAGS } from '../runners/tokens';
import { IRunlabConnection } from '../tokens';
import { latest } from './metrics';
import { RunViewModel } from './runModel';

export interface IRunActions {
  openSnapshot(runId: string): void;
  restoreSnapshot(runId: string): void;
  downloadArtifact(runId: string, path: string): void;
  /** Open the provenance graph around a node (`run:<id>`, `artifact:<id>/<path>`). */
  showProvenance(node: string): void;
  /** Queue a job that re-produces the run on a runner (the runners feature's command). */
  rerun(runId: string): void;
  openRun(runId: string): void;
}

/** "re-run of <run>" and "ran on <runner> (attempt N)", from the tags a runner job's run carries. */
function RunnerFacts({ run, actions }: { run: Run; actions: IRunActions }): JSX.Element {
  const original = run.tags[JOB_TAGS.rerunOf];
  const runner = run.tags[JOB_TAGS.runner];
  const attempts = run.tags[JOB_TAGS.attempts];
  return (
    <>
      {original && (
        <span className="jp-runlab-RunLineage jp-runlab-RerunOf">
          <span className="jp-runlab-Badge">re-run</span> of
          <button className="jp-runlab-Link" onClick={() => actions.openRun(original)}>
            {original.slice(0, 8)}
          </button>
        </span>
      )}
      {runner && (
        <span className="jp-runlab-RunLineage jp-runlab-RanOn">
          ran on {runner}
          {attempts ? ` (attempt ${attempts})` : ''}
        </span>
      )}
    </>
  );
}

function IOList({ items, empty }: { items: RunIO[]; empty: string }): JSX.Element {
  if (!items.length) {
    return <p className="jp-runlab-Muted">{empty}</p>;
  }
  return (
    <ul className="jp-runlab-IOList">
      {items.map((item) => (
        <li key={`${item.kind}:${item.name}`}>
          <span className="jp-runlab-Badge">{item.kind}</span> {item.name}
          {item.digest && <code className="jp-runlab-Digest"> {item.digest.slice(0, 12)}</code>}
        </li>
      ))}
    </ul>
  );
}

function MetricPanel({ model, metricKey }: { model: RunViewModel; metricKey: string }): JSX.Element {
  const series = model.series(metricKey);
  const summary = model.run?.metrics[metricKey];
  return (
    <figure className="jp-runlab-Chart" data-metric={metricKey}>
      <figcaption>
        <strong>{metricKey}</strong>
        <span className="jp-runlab-ChartLatest">latest {latest(summary)}</span>
        {summary && (
          <span className="jp-runlab-Muted">
            min {formatValue(summary.min)} · max {formatValue(summary.max)} · {summary.count} {summary.count === 1 ? 'point' : 'points'}
          </span>
        )}
        {series?.zoom && (
          <button className="jp-Button jp-mod-styled jp-mod-reject jp-runlab-Small" onClick={() => void model.resetZoom(metricKey)}>
            Reset zoom
          </button>
        )}
      </figcaption>
      {series ? (
        <Suspense fallback={<div className="jp-runlab-ChartPlaceholder">Loading chart…</div>}>
          <MetricChart points={series.points} onZoom={(from, to) => void model.zoom(metricKey, from, to)} />
          <div className="jp-runlab-Muted jp-runlab-ChartNote">
            {series.downsampled
              ? `${series.points.length.toLocaleString()} of ${series.total.toLocaleString()} points shown; drag across the chart to zoom to full resolution.`
              : `${series.points.length.toLocaleString()} ${series.points.length === 1 ? 'point' : 'points'}${series.zoom ? ` (steps ${series.zoom[0]}–${series.zoom[1]}, full resolution)` : ''}`}
          </div>
        </Suspense>
      ) : (
        <div className="jp-runlab-ChartPlaceholder">Loading…</div>
      )}
    </figure>
  );
}

function EnvironmentSection({ run }: { run: Run }): JSX.Element {
  const [showPackages, setShowPackages] = useState(false);
  const env = run.environment;
  if (!env) {
    return <p className="jp-runlab-Muted">Not recorded.</p>;
  }
  const packages = Object.entries(env.packages).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <KeyValueTable
        entries={[
          ['Python', env.python],
          ['Platform', env.platform],
          ['Host', env.hostname]
        ]}
      />
      <button className="jp-runlab-Link" onClick={() => setShowPackages(!showPackages)} aria-expanded={showPackages}>
        {showPackages ? 'Hide' : 'Show'} {packages.length} installed packages
      </button>
      {showPackages && <pre className="jp-runlab-Packages">{packages.map(([name, version]) => `${name}==${version}`).join('\n')}</pre>}
    </>
  );
}

export function RunViewBody({ model, actions }: { model: RunViewModel; actions: IRunActions }): JSX.Element {
  return (
    <UseSignal signal={model.changed}>
      {() => {
        const run = model.run;
        if (!run) {
          return <div className="jp-runlab-RunView">{model.error ?? 'Loading run…'}</div>;
        }
        const metricKeys = Object.keys(run.metrics).sort();
        return (
          <div className="jp-runlab-RunView" data-run-id={run.id} data-status={run.status}>
            <header className="jp-runlab-RunHeader">
              <h1>
                <span className={`jp-runlab-RunStatus jp-runlab-mod-${run.status}`} /> {run.name}
              </h1>
              <div className="jp-runlab-RunHeader-facts">
                <span className="jp-runlab-Badge" data-status={run.status}>
                  {run.status}
                </span>
                <span>started {formatTime(run.startedAt)}</span>
                <span>duration {formatDuration(run)}</span>
                {run.notebookPath && <span>notebook {run.notebookPath}</span>}
                <span className="jp-runlab-Muted">
                  {run.projectName} · {run.id}
                </span>
                <RunnerFacts run={run} actions={actions} />
                <button
                  className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-RerunButton"
                  title="Run it again on a runner: same notebook version, dataset versions and parameters; then compare the two"
                  disabled={run.status === 'running'}
                  onClick={() => actions.rerun(run.id)}
                >
                  Re-run
                </button>
                <button
                  className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-ProvenanceButton"
                  title="What this run was made from, and what was made from it"
                  onClick={() => actions.showProvenance(`run:${run.id}`)}
                >
                  Provenance
                </button>
              </div>
            </header>
            {run.error && (
              <section className="jp-runlab-RunSection jp-runlab-RunError">
                <h2>Error</h2>
                <p>{run.error.message}</p>
                {run.error.traceback && <pre>{run.error.traceback}</pre>}
              </section>
            )}
            <section className="jp-runlab-RunSection">
              <h2>Parameters</h2>
              <KeyValueTable entries={Object.entries(run.params).sort(([a], [b]) => a.localeCompare(b))} empty="No parameters logged." />
            </section>
            <section className="jp-runlab-RunSection">
              <h2>Metrics</h2>
              {metricKeys.length ? (
                <div className="jp-runlab-Charts">
                  {metricKeys.map((key) => (
                    <MetricPanel key={key} model={model} metricKey={key} />
                  ))}
                </div>
              ) : (
                <p className="jp-runlab-Muted">{run.status === 'running' ? 'Waiting for metrics…' : 'No metrics logged.'}</p>
              )}
            </section>
            <section className="jp-runlab-RunSection jp-runlab-Columns">
              <div>
                <h2>Inputs</h2>
                <IOList items={run.inputs} empty="No inputs recorded." />
              </div>
              <div>
                <h2>Outputs</h2>
                <IOList items={run.outputs} empty="No outputs recorded." />
              </div>
            </section>
            <section className="jp-runlab-RunSection">
              <h2>Artifacts</h2>
              {run.artifacts.length ? (
                <ul className="jp-runlab-IOList">
                  {run.artifacts.map((artifact) => (
                    <li key={artifact.path}>
                      <button className="jp-runlab-Link" onClick={() => actions.downloadArtifact(run.id, artifact.path)}>
                        {artifact.path}
                      </button>{' '}
                      <span className="jp-runlab-Muted">{formatBytes(artifact.size)}</span>{' '}
                      <button
                        className="jp-runlab-Link jp-runlab-Muted"
                        aria-label={`Provenance of ${artifact.path}`}
                        onClick={() => actions.showProvenance(`artifact:${run.id}/${artifact.path}`)}
                      >
                        provenance
                      </button>
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="jp-runlab-Muted">No artifacts.</p>
              )}
            </section>
            <section className="jp-runlab-RunSection" aria-label="Notebook version">
              <h2>Notebook version</h2>
              {run.snapshot ? (
                <div className="jp-runlab-Snapshot">
                  <p>
                    <code>{run.snapshot.commit.slice(0, 10)}</code> · {run.snapshot.notebookPath}
                    {run.snapshot.files.length > 1 && (
                      <span className="jp-runlab-Muted"> · with {run.snapshot.files.length - 1} local module(s)</span>
                    )}
                    {run.snapshot.reused && <span className="jp-runlab-Muted"> · unchanged since an earlier run</span>}
                  </p>
                  <div className="jp-runlab-Actions">
                    <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={() => actions.openSnapshot(run.id)}>
                      Open this version
                    </button>
                    <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={() => actions.restoreSnapshot(run.id)}>
                      Restore…
                    </button>
                  </div>
                </div>
              ) : (
                <p className="jp-runlab-Muted">
                  {run.status === 'running' ? 'Taking the snapshot…' : 'No snapshot was taken for this run.'}
                </p>
              )}
            </section>
            {run.source.cell && (
              <section className="jp-runlab-RunSection">
                <h2>Cell</h2>
                <pre className="jp-runlab-Code">{run.source.cell}</pre>
              </section>
            )}
            <section className="jp-runlab-RunSection">
              <h2>Environment</h2>
              <EnvironmentSection run={run} />
            </section>
            <section className="jp-runlab-RunSection">
              <h2>Tags</h2>
              <KeyValueTable entries={Object.entries(run.tags).sort(([a], [b]) => a.localeCompare(b))} empty="No tags." />
            </section>
          </div>
        );
      }}
    </UseSignal>
  );
}

/** A main-area tab showing one run; disposing it leaves the run's room. */
export function createRunView(connection: IRunlabConnection, runId: string, actions: IRunActions): MainAreaWidget {
  const model = new RunViewModel(connection, runId);
  const content = ReactWidget.create(<RunViewBody model={model} actions={actions} />);
  content.addClass('jp-runlab-RunViewContainer');
  const widget = createMainAreaTab(content, { id: `runlab-run-${runId}`, label: 'Run', icon: runlabIcon });
  model.changed.connect(() => {
    if (model.run) {
      widget.title.label = `Run: ${model.run.name}`;
      widget.title.caption = `${model.run.name} (${model.run.status})`;
    }
  }, widget);
  widget.disposed.connect(() => model.dispose());
  return widget;
}
