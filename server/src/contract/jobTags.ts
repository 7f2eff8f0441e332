/** Run tags the server sets on a job's run (shown in the Runs panel like other tags). No imports: the extension uses it at run time. */
export const JOB_TAGS = {
  job: 'runlab.job',
  runner: 'runlab.runner',
  attempts: 'runlab.attempts',
  rerunOf: 'runlab.rerunOf'
} as const;
