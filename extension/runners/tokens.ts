/** Command ids, plugin id, run tag names and the model token of the runners feature. */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { AddRunnerResponse, CreateRunnerPoolRequest, Runner, RunnerPool } from '../../server/src/contract';

export namespace CommandIDs {
  /** Show the Runners sidebar. */
  export const openRunners = 'runlab:open-runners';
  /** Asks a name and labels, then shows the one-line command that starts the runner. */
  export const addRunner = 'runlab:add-runner';
  /** The Add runner pool dialog: a Kubernetes context and namespace whose Jobs run queued jobs. */
  export const addRunnerPool = 'runlab:add-runner-pool';
  /** args: `id` (asks which pool without it): delete its pods (their jobs re-queued) and the pool. */
  export const removeRunnerPool = 'runlab:remove-runner-pool';
  /** Opens the Run on Runner dialog for the notebook in focus. */
  export const runOnRunner = 'runlab:run-on-runner';
  /** args: `jobId` (asks for one without it). */
  export const openJob = 'runlab:open-job';
  /** args: `runId`: queue a job re-producing the run, open it, compare the two runs once it finishes. */
  export const rerunRun = 'runlab:rerun-run';
}

/** Also the settings id: `schema/runners.json`. */
export const PLUGIN_ID = 'runlab:runners';

/** Run tags the server sets on a job's run (from the contract module that imports no zod). */
export { JOB_TAGS } from '../../server/src/contract/jobTags';

export interface IRunnersModel {
  /** Every registered runner, by name; live on `runner:updated` / `runner:removed`. */
  readonly runners: readonly Runner[];
  readonly loading: boolean;
  /** One sentence a user can act on, when the list could not be loaded. */
  readonly error: string | null;
  readonly changed: ISignal<IRunnersModel, void>;
  refresh(): Promise<void>;
  /** Registers a runner; the answer holds its token, shown once, and the command to run. */
  add(name: string, labels: string[]): Promise<AddRunnerResponse>;
  drain(id: string): Promise<void>;
  remove(id: string): Promise<void>;
}

export interface IRunnerPoolsModel {
  /** Every runner pool, by name, with the pods it runs now; live on `runner_pool:updated` / `runner_pool:removed`. */
  readonly pools: readonly RunnerPool[];
  readonly loading: boolean;
  readonly error: string | null;
  readonly changed: ISignal<IRunnerPoolsModel, void>;
  refresh(): Promise<void>;
  create(request: CreateRunnerPoolRequest): Promise<RunnerPool>;
  remove(id: string): Promise<void>;
}

export const IRunnerPoolsModel = new Token<IRunnerPoolsModel>('runlab:IRunnerPoolsModel', 'The Runlab runner pools, updated live.');

export const IRunnersModel = new Token<IRunnersModel>('runlab:IRunnersModel', 'The Runlab runners, updated live.');
