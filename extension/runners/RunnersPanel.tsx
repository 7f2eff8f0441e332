/** The Runners sidebar: every runner with its status, capacity, jobs and last heartbeat. */
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';
import type { Runner } from '../../server/src/contract';
import { serverListPlaceholder, StaleListError } from '../shared/serverListPlaceholder';
import { capacityText, heartbeatText, runningJobsText } from './format';
import { IRunnersModel } from './tokens';

export interface IRunnersPanelActions {
  add(): void;
  drain(runner: Runner): void;
  remove(runner: Runner): void;
  openJob(jobId: string): void;
}

const STATUS_TEXT: Record<Runner['status'], string> = { online: 'online', draining: 'draining', offline: 'offline' };

/** The current time, every `ms`: heartbeats read "3 s ago" and must keep counting. */
function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function RunnersEmptyState({ onAdd }: { onAdd: () => void }): JSX.Element {
  return (
    <div className="jp-runlab-RunnersEmpty">
      <p>
        <strong>No runners yet.</strong> A runner is a machine (a workstation, a GPU box, a cloud VM) that runs your notebooks as jobs, at
        the exact notebook version, with the dataset versions and parameters you choose, while you keep working here.
      </p>
      <p>
        Add one, then run the command it shows on that machine (it needs Python and <code>pip install runlab</code>). It connects here and
        appears in this list; <strong>Run on Runner</strong> in a notebook&apos;s toolbar sends it work.
      </p>
      <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={onAdd}>
        Add runner…
      </button>
    </div>
  );
}

function RunnerRow({ runner, now, actions }: { runner: Runner; now: number; actions: IRunnersPanelActions }): JSX.Element {
  return (
    <li className="jp-runlab-RunnerRow" data-runner={runner.name} data-status={runner.status}>
      <div className="jp-runlab-RunnerRow-head">
        <span className={`jp-runlab-StatusDot jp-runlab-mod-${runner.status}`} aria-hidden="true" />
        <strong className="jp-runlab-RunnerRow-name">{runner.name}</strong>
        <span className="jp-runlab-RunnerRow-status">{STATUS_TEXT[runner.status]}</span>
        {runner.labels.map((label) => (
          <span key={label} className="jp-runlab-Badge jp-runlab-RunnerLabel">
            {label}
          </span>
        ))}
      </div>
      <div className="jp-runlab-RunnerRow-detail jp-runlab-RunnerCapacity">{capacityText(runner.capacity)}</div>
      {runner.capacity && (
        <div className="jp-runlab-RunnerRow-detail jp-runlab-Muted">
          {runner.capacity.os} · Python {runner.capacity.python}
        </div>
      )}
      <div className="jp-runlab-RunnerRow-detail">
        <span className="jp-runlab-RunnerJobs">{runningJobsText(runner)}</span>
        {runner.runningJobs.map((jobId) => (
          <button key={jobId} className="jp-runlab-Link" onClick={() => actions.openJob(jobId)} title={`Open job ${jobId}`}>
            {jobId.slice(0, 8)}
          </button>
        ))}
        <span className="jp-runlab-Muted jp-runlab-RunnerHeartbeat" title={runner.lastHeartbeatAt ?? undefined}>
          heartbeat {heartbeatText(runner.lastHeartbeatAt, now)}
        </span>
      </div>
      <div className="jp-runlab-RunnerRow-actions">
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          disabled={runner.status !== 'online'}
          title="Give it no new jobs; what it runs now finishes"
          onClick={() => actions.drain(runner)}
        >
          Drain
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-warn jp-runlab-Small"
          title="Revoke its token and disconnect it; its jobs go back to the queue"
          onClick={() => actions.remove(runner)}
        >
          Remove…
        </button>
      </div>
    </li>
  );
}

function RunnersList({ model, actions }: { model: IRunnersModel; actions: IRunnersPanelActions }): JSX.Element {
  const now = useNow();
  const placeholder = serverListPlaceholder({
    list: model,
    count: model.runners.length,
    bodyClass: 'jp-runlab-RunnersBody',
    loadingText: 'Loading runners…',
    empty: <RunnersEmptyState onAdd={actions.add} />
  });
  if (placeholder) {
    return placeholder;
  }
  const online = model.runners.filter((runner) => runner.status === 'online').length;
  return (
    <div className="jp-runlab-RunnersBody">
      <div className="jp-runlab-RunnersSummary">
        <span className="jp-runlab-Muted">
          {model.runners.length} {model.runners.length === 1 ? 'runner' : 'runners'}, {online} online
        </span>
        <button className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small" onClick={actions.add}>
          Add runner…
        </button>
      </div>
      <StaleListError list={model} />
      <ul className="jp-runlab-RunnerList" aria-label="Runners">
        {model.runners.map((runner) => (
          <RunnerRow key={runner.id} runner={runner} now={now} actions={actions} />
        ))}
      </ul>
    </div>
  );
}

export function RunnersPanelView({ model, actions }: { model: IRunnersModel; actions: IRunnersPanelActions }): JSX.Element {
  return <UseSignal signal={model.changed}>{() => <RunnersList model={model} actions={actions} />}</UseSignal>;
}
