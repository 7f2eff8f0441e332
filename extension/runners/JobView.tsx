/**
 * The job view (main area): status, runner and attempt, cell progress, the output as it streams,
 * the error with its traceback, Cancel, and a link to the job's run.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useRef, useState } from 'react';
import { formatDuration, formatTime } from '../shared/format';
import { KeyValueTable } from '../shared/KeyValueTable';
import { createMainAreaTab } from '../shared/mainArea';
import { IRunlabConnection } from '../tokens';
import { isJobEnded, JOB_STATUS_LABELS, jobProgressFraction, jobProgressText, stripAnsi } from './format';
import { runnersIcon } from './icons';
import { JobModel } from './model';

export interface IJobActions {
  openRun(runId: string): void;
  /** Compare the job's run with the run it re-produces. */
  compare(originalRunId: string, runId: string): void;
}

/** Output that follows its end while the user has not scrolled up. */
function Output({ text }: { text: string }): JSX.Element {
  const ref = useRef<HTMLPreElement>(null);
  const [follow, setFollow] = useState(true);
  useEffect(() => {
    if (follow && ref.current) {
      ref.current.scrollTop = ref.current.scrollHeight;
    }
  }, [text, follow]);
  return (
    <pre
      ref={ref}
      className="jp-runlab-JobOutput"
      aria-label="Job output"
      onScroll={(event) => {
        const node = event.currentTarget;
        setFollow(node.scrollHeight - node.scrollTop - node.clientHeight < 24);
      }}
    >
      {text ? stripAnsi(text) : 'No output yet.'}
    </pre>
  );
}

function JobBody({ model, actions }: { model: JobModel; actions: IJobActions }): JSX.Element {
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const job = model.job;
  if (!job) {
    return (
      <div className="jp-runlab-JobView">
        <p className={model.error ? 'jp-runlab-Message' : 'jp-runlab-Muted'}>{model.error ?? 'Loading job…'}</p>
      </div>
    );
  }
  const ended = isJobEnded(job.status);
  const attempt = job.attempts[job.attempts.length - 1];
  const progress = { status: job.status, progress: model.progress };
  const fraction = jobProgressFraction(model.progress);
  return (
    <div className="jp-runlab-JobView" data-job-id={job.id} data-status={job.status} data-run-id={job.runId}>
      <header className="jp-runlab-RunHeader">
        <h1>
          <span className={`jp-runlab-RunStatus jp-runlab-mod-${job.status.replace('_', '-')}`} /> {job.name}
        </h1>
        <div className="jp-runlab-RunHeader-facts">
          <span className="jp-runlab-Badge jp-runlab-JobStatus" data-status={job.status}>
            {JOB_STATUS_LABELS[job.status]}
          </span>
          <span className="jp-runlab-JobRunner">
            {job.runnerName ? `on ${job.runnerName}` : 'no runner yet'}
            {job.attemptCount > 0 && ` · attempt ${job.attemptCount} of ${job.maxRetries + 1}`}
          </span>
          {job.startedAt && <span>duration {formatDuration({ startedAt: job.startedAt, endedAt: job.finishedAt })}</span>}
          <span className="jp-runlab-Muted">
            {job.projectName} · {job.notebookPath} · {job.id}
          </span>
          <button className="jp-runlab-Link jp-runlab-JobOpenRun" onClick={() => actions.openRun(job.runId)}>
            Open run
          </button>
          {job.rerunOf && ended && (
            <button className="jp-runlab-Link" onClick={() => actions.compare(job.rerunOf!, job.runId)}>
              Compare with the original run
            </button>
          )}
          <button
            className="jp-Button jp-mod-styled jp-mod-warn jp-runlab-Small jp-runlab-JobCancel"
            disabled={ended || cancelling}
            onClick={() => {
              setCancelling(true);
              model
                .cancel()
                .then(() => setCancelError(null))
                .catch((error: Error) => setCancelError(`Could not cancel: ${error.message}`))
                .finally(() => setCancelling(false));
            }}
          >
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        </div>
      </header>
      {cancelError && (
        <p className="jp-runlab-Message" role="alert">
          {cancelError}
        </p>
      )}
      <section className="jp-runlab-RunSection" aria-label="Progress">
        <div className="jp-runlab-JobProgress-text">{jobProgressText(progress)}</div>
        <div
          className="jp-runlab-JobProgress"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={model.progress?.cells ?? 0}
          aria-valuenow={Math.round(fraction * (model.progress?.cells ?? 0))}
          data-state={model.progress?.state ?? 'none'}
        >
          <div className="jp-runlab-JobProgress-bar" style={{ width: `${Math.round(fraction * 100)}%` }} />
        </div>
      </section>
      {(job.error || model.lastError) && (
        <section className="jp-runlab-RunSection jp-runlab-RunError">
          <h2>Error</h2>
          {job.error && <p>{job.error}</p>}
          {model.lastError && (
            <>
              {!job.error && (
                <p>
                  {model.lastError.ename}: {model.lastError.evalue}
                </p>
              )}
              <pre>{stripAnsi(model.lastError.traceback)}</pre>
            </>
          )}
        </section>
      )}
      <section className="jp-runlab-RunSection">
        <h2>Output</h2>
        <Output text={model.output} />
      </section>
      <section className="jp-runlab-RunSection">
        <h2>Details</h2>
        <KeyValueTable
          entries={[
            ['Queued', formatTime(job.createdAt)],
            ['Snapshot', job.snapshotCommit.slice(0, 10)],
            ['Environment', job.env === 'runner' ? "the runner's Python" : 'recreated packages'],
            ['Labels', job.labels.join(', ') || 'any runner'],
            ['Timeout', job.timeoutS ? `${Math.round(job.timeoutS / 60)} min` : 'none'],
            ['Parameters', Object.keys(job.parameters).length ? JSON.stringify(job.parameters) : 'as in the notebook'],
            [
              'Datasets',
              Object.entries(job.datasets)
                .map(([name, version]) => `${name}@${version}`)
                .join(', ') || 'none pinned'
            ],
            ...(attempt
              ? ([
                  ['Current attempt', `${attempt.number}: ${attempt.status}${attempt.runnerName ? ` on ${attempt.runnerName}` : ''}`]
                ] as const)
              : [])
          ]}
        />
      </section>
    </div>
  );
}

/** A main-area tab following one job live; disposing it leaves the job's room. */
export function createJobView(
  connection: IRunlabConnection,
  jobId: string,
  actions: IJobActions
): { widget: MainAreaWidget; model: JobModel } {
  const model = new JobModel(connection, jobId);
  const content = ReactWidget.create(<UseSignal signal={model.changed}>{() => <JobBody model={model} actions={actions} />}</UseSignal>);
  content.addClass('jp-runlab-JobViewContainer');
  const widget = createMainAreaTab(content, { id: `runlab-job-${jobId}`, label: 'Job', icon: runnersIcon });
  model.changed.connect(() => {
    if (model.job) {
      widget.title.label = `Job: ${model.job.name}`;
      widget.title.caption = `${model.job.name} (${JOB_STATUS_LABELS[model.job.status]})`;
    }
  }, widget);
  widget.disposed.connect(() => model.dispose());
  return { widget, model };
}
