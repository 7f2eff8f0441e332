/**
 * Nested runs in the Runs panel: a run whose `mlflow.parentRunId` names a run in the list is shown
 * under it, and only while that parent is expanded. A sweep's parent run groups its trials this
 * way (its trials in trial order); runs nested with MLflow's client group the same.
 */
import type { Run } from '../../server/src/contract';
import { SWEEP_TAGS } from '../../server/src/contract/jobTags';

export interface IRunListRow {
  run: Run;
  /** 0: a top-level run; 1: a child shown under its parent. */
  depth: 0 | 1;
  /** How many children a parent has (0 for runs without). */
  children: number;
  expanded: boolean;
  /** The sweep a sweep's parent run stands for. */
  sweepId: string | null;
}

const trialNumber = (run: Run) => Number(run.tags[SWEEP_TAGS.trial] ?? Number.NaN);

/** The rows to list, in the runs' order with each parent's children after it. */
export function nestRuns(runs: readonly Run[], expanded: ReadonlySet<string>): IRunListRow[] {
  const ids = new Set(runs.map((run) => run.id));
  const children = new Map<string, Run[]>();
  for (const run of runs) {
    const parent = run.tags[SWEEP_TAGS.parent];
    if (parent && parent !== run.id && ids.has(parent)) {
      children.set(parent, [...(children.get(parent) ?? []), run]);
    }
  }
  const rows: IRunListRow[] = [];
  for (const run of runs) {
    const parent = run.tags[SWEEP_TAGS.parent];
    if (parent && parent !== run.id && ids.has(parent)) {
      continue;
    }
    const own = children.get(run.id) ?? [];
    const sweepId = !parent && run.source?.kind === 'sweep' ? (run.tags[SWEEP_TAGS.sweep] ?? null) : null;
    const open = expanded.has(run.id);
    rows.push({ run, depth: 0, children: own.length, expanded: open, sweepId });
    if (open) {
      const ordered = own.every((child) => Number.isFinite(trialNumber(child)))
        ? [...own].sort((a, b) => trialNumber(a) - trialNumber(b))
        : own;
      rows.push(...ordered.map((child) => ({ run: child, depth: 1 as const, children: 0, expanded: false, sweepId: null })));
    }
  }
  return rows;
}
