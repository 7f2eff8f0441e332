/** Command ids, plugin id and the model token of the models feature (the model registry). */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { AliasMove, Model, ModelVersion } from '../../server/src/contract';

export namespace CommandIDs {
  /** Show the Models sidebar. */
  export const openModels = 'runlab:open-models';
  /** args: `name`, `version` (3, v3, latest or an alias): the version's page in the main area. */
  export const openModelVersion = 'runlab:open-model-version';
  /** args: `name`, optional `version`, `alias`: asks which alias to point at which version, and why. */
  export const setModelAlias = 'runlab:set-model-alias';
}

/** Also the settings id: `schema/models.json`. */
export const PLUGIN_ID = 'runlab:models';

export interface IModelsModel {
  /** Every registered model, most recently updated first; live on `model:*` events. */
  readonly models: readonly Model[];
  readonly loading: boolean;
  /** One sentence a user can act on, when the list could not be loaded. */
  readonly error: string | null;
  readonly changed: ISignal<IModelsModel, void>;
  refresh(): Promise<void>;
  model(name: string): Model | null;
  /** A model's versions, newest first, once loaded (`loadVersions`); kept live. */
  versions(name: string): readonly ModelVersion[] | null;
  loadVersions(name: string): Promise<readonly ModelVersion[]>;
  /** A model's alias moves, newest first, once loaded (`loadHistory`); kept live. */
  history(name: string): readonly AliasMove[] | null;
  loadHistory(name: string): Promise<readonly AliasMove[]>;
  /** Points `alias` at `version`; `expectedVersion` (where the user saw it) refuses a move someone made meanwhile. */
  setAlias(name: string, alias: string, version: number, reason: string, expectedVersion?: number | null): Promise<AliasMove>;
  /** Moves `alias` back to the version it pointed at before its last move. */
  rollbackAlias(name: string, alias: string, reason: string): Promise<AliasMove>;
  deleteAlias(name: string, alias: string, reason: string): Promise<AliasMove>;
}

export const IModelsModel = new Token<IModelsModel>('runlab:IModelsModel', 'The Runlab model registry, updated live.');
