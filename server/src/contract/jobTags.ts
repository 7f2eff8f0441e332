/** Run tags the server sets on a job's run (shown in the Runs panel like other tags). No imports: the extension uses it at run time. */
export const JOB_TAGS = {
  job: 'runlab.job',
  runner: 'runlab.runner',
  attempts: 'runlab.attempts',
  rerunOf: 'runlab.rerunOf'
} as const;

/** Tags on a sweep's runs: the parent holds the sweep id; each trial's run also its number and its parent. */
export const SWEEP_TAGS = {
  sweep: 'runlab.sweep',
  trial: 'runlab.sweep.trial',
  /** MLflow's nested-run tag: the trial's run is a child of the sweep's run. */
  parent: 'mlflow.parentRunId'
} as const;
