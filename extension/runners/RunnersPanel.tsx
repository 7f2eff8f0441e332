/**
 * The Runners sidebar: every runner with its status, capacity, jobs and last heartbeat; then the
 * Kubernetes runner pools, each with where it runs, its image and labels, and the pods it runs
 * now (phase, the cluster's reason, the job each runs).
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';
import type { Runner, RunnerPool } from '../../server/src/contract';
import { serverListPlaceholder, StaleListError } from '../shared/serverListPlaceholder';
import { capacityText, heartbeatText, runningJobsText } from './format';
import { nodeSelectorText, poolPodsText } from './pools';
import { IRunnerPoolsModel, IRunnersModel } from './tokens';

export interface IRunnersPanelActions {
  add(): void;
  drain(runner: Runner): void;
  remove(runner: Runner): void;
  openJob(jobId: string): void;
  addPool(): void;
  removePool(pool: RunnerPool): void;
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

function RunnerRow({
  runner,
  now,
  actions,
  poolName
}: {
  runner: Runner;
  now: number;
  actions: IRunnersPanelActions;
  /** The runner pool that started it (a Kubernetes pod), if any. */
  poolName: string | null;
}): JSX.Element {
  return (
    <li className="jp-runlab-RunnerRow" data-runner={runner.name} data-status={runner.status}>
      <div className="jp-runlab-RunnerRow-head">
        <span className={`jp-runlab-StatusDot jp-runlab-mod-${runner.status}`} aria-hidden="true" />
        <strong className="jp-runlab-RunnerRow-name">{runner.name}</strong>
        <span className="jp-runlab-RunnerRow-status">{STATUS_TEXT[runner.status]}</span>
        {runner.poolId && (
          <span className="jp-runlab-Badge jp-runlab-RunnerPool" title="A pod started by this Kubernetes runner pool">
            pool {poolName ?? runner.poolId.slice(0, 8)}
          </span>
        )}
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

function RunnersList({
  model,
  pools,
  actions
}: {
  model: IRunnersModel;
  pools: IRunnerPoolsModel;
  actions: IRunnersPanelActions;
}): JSX.Element {
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
          <RunnerRow
            key={runner.id}
            runner={runner}
            now={now}
            actions={actions}
            poolName={pools.pools.find((pool) => pool.id === runner.poolId)?.name ?? null}
          />
        ))}
      </ul>
    </div>
  );
}

function PoolRow({ pool, actions }: { pool: RunnerPool; actions: IRunnersPanelActions }): JSX.Element {
  const selector = nodeSelectorText(pool.nodeSelector);
  return (
    <li className="jp-runlab-RunnerRow jp-runlab-PoolRow" data-pool={pool.name} data-status={pool.status}>
      <div className="jp-runlab-RunnerRow-head">
        <span className={`jp-runlab-StatusDot jp-runlab-mod-${pool.status === 'ok' ? 'online' : 'offline'}`} aria-hidden="true" />
        <strong className="jp-runlab-RunnerRow-name">{pool.name}</strong>
        <span className="jp-runlab-Badge jp-runlab-KubePlace-where" title="context / namespace">
          {pool.context} / {pool.namespace}
        </span>
        {pool.labels.map((label) => (
          <span key={label} className="jp-runlab-Badge jp-runlab-RunnerLabel">
            {label}
          </span>
        ))}
      </div>
      <div className="jp-runlab-RunnerRow-detail">
        <code className="jp-runlab-PoolRow-image">{pool.image}</code>
      </div>
      <div className="jp-runlab-RunnerRow-detail jp-runlab-Muted">
        {pool.resources.requests.cpu ?? '—'} CPU · {pool.resources.requests.memory ?? '—'} per pod · at most {pool.maxParallel} in parallel
        {selector ? ` · nodes ${selector}` : ''}
      </div>
      {pool.status === 'error' && pool.statusMessage && (
        <p className="jp-runlab-Message jp-runlab-PoolRow-error" role="alert">
          {pool.statusMessage}
        </p>
      )}
      <div className="jp-runlab-RunnerRow-detail">
        <span className="jp-runlab-PoolRow-pods">{poolPodsText(pool)}</span>
      </div>
      {pool.pods.length > 0 && (
        <ul className="jp-runlab-KubePods" aria-label={`Pods of ${pool.name}`}>
          {pool.pods.map((pod) => (
            <li key={pod.jobName} className="jp-runlab-KubePod" data-pod={pod.podName ?? pod.jobName} data-phase={pod.phase}>
              <span className="jp-runlab-KubePod-dot" data-ready={pod.phase === 'Running' ? 'true' : 'false'} aria-hidden="true" />
              <code className="jp-runlab-KubePod-name">{pod.podName ?? pod.jobName}</code>
              <span className="jp-runlab-KubePod-state">{pod.reason ? `${pod.phase}: ${pod.reason}` : pod.phase}</span>
              <button className="jp-runlab-Link" onClick={() => actions.openJob(pod.runlabJobId)} title={`Open job ${pod.runlabJobId}`}>
                job {pod.runlabJobId.slice(0, 8)}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="jp-runlab-RunnerRow-actions">
        <button
          className="jp-Button jp-mod-styled jp-mod-warn jp-runlab-Small"
          title="Delete its pods (their jobs go back to the queue) and the pool"
          onClick={() => actions.removePool(pool)}
        >
          Remove pool…
        </button>
      </div>
    </li>
  );
}

function PoolsSection({ pools, actions }: { pools: IRunnerPoolsModel; actions: IRunnersPanelActions }): JSX.Element {
  return (
    <section className="jp-runlab-RunnersBody jp-runlab-PoolsSection" aria-label="Kubernetes pools">
      <div className="jp-runlab-RunnersSummary">
        <h3 className="jp-runlab-PoolsTitle">Kubernetes pools</h3>
        <button className="jp-Button jp-mod-styled jp-runlab-Small" onClick={actions.addPool}>
          Add pool…
        </button>
      </div>
      {pools.error && (
        <p className="jp-runlab-Message" role="alert">
          {pools.error}
        </p>
      )}
      {pools.pools.length === 0 ? (
        <p className="jp-runlab-Muted jp-runlab-PoolsEmpty">
          {pools.loading
            ? 'Loading runner pools…'
            : 'No pools. A pool runs each queued job that no runner takes as a pod in a Kubernetes cluster from your kubeconfig.'}
        </p>
      ) : (
        <ul className="jp-runlab-RunnerList" aria-label="Runner pools">
          {pools.pools.map((pool) => (
            <PoolRow key={pool.id} pool={pool} actions={actions} />
          ))}
        </ul>
      )}
    </section>
  );
}

export function RunnersPanelView({
  model,
  pools,
  actions
}: {
  model: IRunnersModel;
  pools: IRunnerPoolsModel;
  actions: IRunnersPanelActions;
}): JSX.Element {
  return (
    <>
      <UseSignal signal={model.changed}>{() => <RunnersList model={model} pools={pools} actions={actions} />}</UseSignal>
      <UseSignal signal={pools.changed}>{() => <PoolsSection pools={pools} actions={actions} />}</UseSignal>
    </>
  );
}
