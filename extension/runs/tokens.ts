/** Command ids, plugin id and model token of the runs feature. */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { Run } from '../../server/src/contract';

export namespace CommandIDs {
  /** Show the Runs sidebar. */
  export const openRuns = 'runlab:open-runs';
  /** The runs table in the main area. */
  export const openRunsTable = 'runlab:open-runs-table';
  /** args: `runId`. */
  export const openRun = 'runlab:open-run';
  /** args: `runIds`, two or more. */
  export const compareRuns = 'runlab:compare-runs';
  /** Compare the runs ticked in the Runs table (when it is the current tab) or the Runs panel. */
  export const compareSelected = 'runlab:compare-selected';
  /** args: `runId`, `path`: save one of the run's artifacts (with the token; a plain link could not send it). */
  export const downloadArtifact = 'runlab:download-artifact';
}

/** Also the settings id: `schema/runs.json`. */
export const PLUGIN_ID = 'runlab:runs';

export interface IRunsModel {
  /** Runs of the current project, newest first, kept live. */
  readonly runs: readonly Run[];
  readonly total: number;
  readonly loading: boolean;
  readonly error: string | null;
  readonly changed: ISignal<IRunsModel, void>;
  /** Recent points per run and metric key, for sparklines. */
  sparkline(runId: string, key: string): readonly number[];
  loadSparkline(runId: string, key: string): Promise<void>;
  refresh(): Promise<void>;
}

export const IRunsModel = new Token<IRunsModel>('runlab:IRunsModel', 'The runs of the current Runlab project, updated live.');
