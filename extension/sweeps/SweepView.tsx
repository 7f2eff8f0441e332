/**
 * The sweep page (main area): progress, the best trial and its parameters, the objective per
 * trial, parameters → objective as parallel coordinates, each parameter's importance, the
 * trials, and Pause / Resume / Cancel / Promote best. Live through its ISweepWatch.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { Suspense } from 'react';
import type { Sweep, Trial } from '../../server/src/contract';
import { createMainAreaTab } from '../shared/mainArea';
import { ErrorMessage } from '../shared/ErrorMessage';
import { formatNumber } from '../shared/format';
import { describeRange, formatParameter, importanceRows, objectiveRows, progressText } from './format';
import { sweepsIcon } from './icons';
import { ObjectiveChart } from './lazyCharts';
import { ParallelCoordinates } from './ParallelCoordinates';
import type { IBestModel, ISweepWatch } from './tokens';

export interface ISweepActions {
  openRun(runId: string): void;
  /** Points an alias of the best trial's model version (the registry's Set Alias dialog). */
  promote(model: IBestModel): void;
  /** Asks before cancelling; true to go on. */
  confirmCancel(sweep: Sweep): Promise<boolean>;
}

const STATUS_LABELS: Record<Sweep['status'], string> = {
  running: 'Running',
  paused: 'Paused',
  finished: 'Finished',
  failed: 'Failed',
  cancelled: 'Cancelled'
};

function Header({ watch, sweep, actions }: { watch: ISweepWatch; sweep: Sweep; actions: ISweepActions }): JSX.Element {
  const open = sweep.status === 'running' || sweep.status === 'paused';
  const fraction = sweep.spec.trials ? sweep.done / sweep.spec.trials : 0;
  return (
    <header className="jp-runlab-RunHeader jp-runlab-SweepHeader">
      <h1>
        <span className="jp-runlab-SweepName">{sweep.name}</span>
        <span className="jp-runlab-Badge jp-runlab-SweepStatus" data-status={sweep.status}>
          {STATUS_LABELS[sweep.status]}
        </span>
      </h1>
      <div className="jp-runlab-RunHeader-facts">
        <span>
          {sweep.spec.method} search, {sweep.spec.goal} <code>{sweep.spec.objective}</code>
        </span>
        <span>{sweep.spec.parallel} at once</span>
        <span>seed {sweep.spec.seed}</span>
        {sweep.spec.earlyStop && (
          <span title="A trial whose best value so far is worse than the median of the completed trials at the same step is stopped">
            median early stopping after {sweep.spec.earlyStop.minTrials} trials and {sweep.spec.earlyStop.minSteps} steps
          </span>
        )}
        <span className="jp-runlab-Muted">{sweep.notebookPath}</span>
      </div>
      <div className="jp-runlab-SweepProgress" role="group" aria-label="Progress">
        <p className="jp-runlab-SweepProgress-text" aria-live="polite">
          {progressText(sweep)}
        </p>
        <div
          className="jp-runlab-JobProgress"
          data-state={sweep.status === 'finished' ? 'done' : sweep.status === 'failed' ? 'error' : 'running'}
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={sweep.spec.trials}
          aria-valuenow={sweep.done}
        >
          <div className="jp-runlab-JobProgress-bar" style={{ width: `${Math.round(fraction * 100)}%` }} />
        </div>
      </div>
      {sweep.error && (
        <p className="jp-runlab-Message jp-runlab-SweepError" role="alert">
          {sweep.error}
        </p>
      )}
      {watch.actionError && (
        <p className="jp-runlab-Message" role="alert">
          {watch.actionError}
        </p>
      )}
      <div className="jp-runlab-Actions jp-runlab-SweepActions">
        {sweep.status === 'running' && (
          <button className="jp-Button jp-mod-styled jp-mod-reject jp-runlab-Small" onClick={() => void watch.pause()}>
            Pause
          </button>
        )}
        {sweep.status === 'paused' && (
          <button className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small" onClick={() => void watch.resume()}>
            Resume
          </button>
        )}
        {open && (
          <button
            className="jp-Button jp-mod-styled jp-mod-warn jp-runlab-Small"
            onClick={() => void actions.confirmCancel(sweep).then((yes) => (yes ? watch.cancel() : undefined))}
          >
            Cancel sweep
          </button>
        )}
        <button
          className="jp-Button jp-mod-styled jp-mod-reject jp-runlab-Small"
          title="The sweep's parent run: its snapshot, its ranges as params; each trial's run is its child"
          onClick={() => actions.openRun(sweep.runId)}
        >
          Open sweep run
        </button>
      </div>
    </header>
  );
}

function Best({ watch, sweep, actions }: { watch: ISweepWatch; sweep: Sweep; actions: ISweepActions }): JSX.Element {
  const best = sweep.best;
  const model = watch.bestModel;
  return (
    <section className="jp-runlab-RunSection jp-runlab-SweepBest" aria-label="Best trial">
      <h2>Best so far</h2>
      {best && best.value !== null ? (
        <>
          <p className="jp-runlab-SweepBest-value">
            <code>{sweep.spec.objective}</code> <span className="jp-runlab-SweepBest-number">{formatNumber(best.value)}</span>{' '}
            <span className="jp-runlab-Muted">in trial {best.number}</span>
          </p>
          <table className="jp-runlab-Table jp-runlab-SweepBest-params">
            <tbody>
              {Object.keys(sweep.spec.params).map((name) => (
                <tr key={name} data-parameter={name}>
                  <th scope="row">
                    <code>{name}</code>
                  </th>
                  <td>{formatParameter(best.params[name])}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="jp-runlab-Actions">
            {best.runId && (
              <button
                className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small"
                onClick={() => actions.openRun(best.runId as string)}
              >
                Open best run
              </button>
            )}
            <button
              className="jp-Button jp-mod-styled jp-mod-reject jp-runlab-Small jp-runlab-SweepPromote"
              disabled={!model}
              title={
                model
                  ? `Point an alias (for example production) at ${model.name} v${model.version}, the model the best trial registered`
                  : model === null
                    ? "The best trial's run registered no model: log one with runlab.model(...) in the notebook to promote it"
                    : 'Reading which model the best trial registered…'
              }
              onClick={() => model && actions.promote(model)}
            >
              {model ? `Promote best: ${model.name} v${model.version}…` : 'Promote best…'}
            </button>
          </div>
          {model === null && (
            <p className="jp-runlab-Muted">
              The best trial&apos;s run registered no model; log one with <code>runlab.model(...)</code> in the notebook to promote it from
              here.
            </p>
          )}
        </>
      ) : (
        <p className="jp-runlab-Muted">No trial has finished yet; the best shows here as soon as one logs {sweep.spec.objective}.</p>
      )}
    </section>
  );
}

function Importance({ sweep }: { sweep: Sweep }): JSX.Element {
  const rows = importanceRows(sweep.importance);
  return (
    <section className="jp-runlab-RunSection jp-runlab-SweepImportance" aria-label="Parameter importance">
      <h2>Which parameters matter</h2>
      {rows.length ? (
        <ul className="jp-runlab-SweepImportance-list">
          {rows.map((row) => (
            <li
              key={row.name}
              data-parameter={row.name}
              title={`${row.name} explains ${(row.share * 100).toFixed(1)}% of the objective's variance (fANOVA)`}
            >
              <code className="jp-runlab-SweepImportance-name">{row.name}</code>
              <span className="jp-runlab-SweepImportance-bar">
                <span style={{ width: `${Math.max(1, Math.round(row.share * 100))}%` }} />
              </span>
              <span className="jp-runlab-SweepImportance-share">{(row.share * 100).toFixed(0)}%</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-runlab-Muted">
          Shown once two finished trials differ in {sweep.spec.objective} (fANOVA over the finished trials).
        </p>
      )}
    </section>
  );
}

function Trials({ sweep, trials, actions }: { sweep: Sweep; trials: readonly Trial[]; actions: ISweepActions }): JSX.Element {
  const names = Object.keys(sweep.spec.params);
  return (
    <section className="jp-runlab-RunSection jp-runlab-SweepTrials" aria-label="Trials">
      <h2>Trials</h2>
      {trials.length ? (
        <table className="jp-runlab-Table jp-runlab-SweepTrials-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Status</th>
              {names.map((name) => (
                <th key={name}>
                  <code>{name}</code>
                </th>
              ))}
              <th>{sweep.spec.objective}</th>
              <th>Step</th>
              <th>Run</th>
            </tr>
          </thead>
          <tbody>
            {trials.map((trial) => (
              <tr
                key={trial.id}
                data-trial={trial.number}
                data-status={trial.status}
                className={sweep.best?.id === trial.id ? 'jp-runlab-mod-best' : undefined}
              >
                <td>{trial.number}</td>
                <td title={trial.error ?? undefined}>
                  <span className="jp-runlab-Badge" data-status={trial.status}>
                    {trial.status === 'stopped' ? 'stopped early' : trial.status}
                  </span>
                  {trial.attempts > 1 && <span className="jp-runlab-Muted"> attempt {trial.attempts}</span>}
                </td>
                {names.map((name) => (
                  <td key={name}>{formatParameter(trial.params[name])}</td>
                ))}
                <td>{trial.value === null ? '' : formatNumber(trial.value)}</td>
                <td>{trial.step ?? ''}</td>
                <td>
                  {trial.runId && (
                    <button className="jp-runlab-Link" onClick={() => actions.openRun(trial.runId as string)}>
                      Open run
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="jp-runlab-Muted">No trial proposed yet.</p>
      )}
    </section>
  );
}

function Ranges({ sweep }: { sweep: Sweep }): JSX.Element {
  const fixed = Object.entries(sweep.spec.fixed);
  return (
    <section className="jp-runlab-RunSection jp-runlab-SweepRanges" aria-label="Ranges">
      <h2>Ranges</h2>
      <table className="jp-runlab-Table">
        <tbody>
          {Object.entries(sweep.spec.params).map(([name, range]) => (
            <tr key={name}>
              <th scope="row">
                <code>{name}</code>
              </th>
              <td>{describeRange(range)}</td>
            </tr>
          ))}
          {fixed.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">
                <code>{name}</code>
              </th>
              <td>{formatParameter(value)} (every trial)</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function SweepBody({ watch, actions }: { watch: ISweepWatch; actions: ISweepActions }): JSX.Element {
  const sweep = watch.sweep;
  if (!sweep) {
    return (
      <div className="jp-runlab-RunView jp-runlab-SweepView-body">
        {watch.error ? (
          <ErrorMessage message={watch.error} onRetry={() => void watch.refresh()} />
        ) : (
          <p className="jp-runlab-Muted">Loading sweep…</p>
        )}
      </div>
    );
  }
  const rows = objectiveRows(watch.trials, sweep.spec.goal);
  return (
    <div className="jp-runlab-RunView jp-runlab-SweepView-body">
      <Header watch={watch} sweep={sweep} actions={actions} />
      <div className="jp-runlab-SweepColumns">
        <Best watch={watch} sweep={sweep} actions={actions} />
        <Importance sweep={sweep} />
      </div>
      <section className="jp-runlab-RunSection jp-runlab-SweepObjective" aria-label="Objective per trial">
        <h2>{sweep.spec.objective} per trial</h2>
        {rows.length ? (
          <Suspense fallback={<p className="jp-runlab-Muted">Loading chart…</p>}>
            <ObjectiveChart rows={rows} objective={sweep.spec.objective} />
          </Suspense>
        ) : (
          <p className="jp-runlab-Muted">Each finished trial adds a point; the line is the best so far.</p>
        )}
      </section>
      <section className="jp-runlab-RunSection jp-runlab-SweepParallel" aria-label="Parameters and objective">
        <h2>Parameters → {sweep.spec.objective}</h2>
        <ParallelCoordinates sweep={sweep} trials={watch.trials} openRun={actions.openRun} />
      </section>
      <Trials sweep={sweep} trials={watch.trials} actions={actions} />
      <Ranges sweep={sweep} />
    </div>
  );
}

class SweepWidget extends ReactWidget {
  constructor(
    private readonly _watch: ISweepWatch,
    private readonly _actions: ISweepActions
  ) {
    super();
    this.addClass('jp-runlab-SweepView');
    this.node.dataset.sweep = _watch.sweepId;
  }

  render(): JSX.Element {
    return <UseSignal signal={this._watch.changed}>{() => <SweepBody watch={this._watch} actions={this._actions} />}</UseSignal>;
  }
}

/** The tab of one sweep; `onClose` lets the model stop following it. */
export function createSweepView(watch: ISweepWatch, actions: ISweepActions, onClose: () => void): MainAreaWidget {
  const widget = createMainAreaTab(new SweepWidget(watch, actions), {
    id: `jp-runlab-sweep-${watch.sweepId}`,
    label: 'Sweep',
    icon: sweepsIcon,
    caption: 'A hyper-parameter sweep: progress, best trial, which parameters matter'
  });
  widget.disposed.connect(onClose);
  watch.changed.connect(() => {
    if (watch.sweep) {
      widget.title.label = `Sweep: ${watch.sweep.name}`;
      widget.title.caption = `${watch.sweep.name}: ${progressText(watch.sweep)}`;
    }
  }, widget);
  void watch.refresh();
  return widget;
}
