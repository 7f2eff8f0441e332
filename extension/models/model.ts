/**
 * The model registry as the extension sees it: the models (live on `model:updated` /
 * `model:deleted`), and for the models a view opened, their versions (live on
 * `model:version-created`) and alias history (live on `model:alias-moved`). Every signed-in
 * browser receives these events, so no room is joined.
 */
import type { AliasMove, Model, ModelVersion } from '../../server/src/contract';
import { ServerListModel } from '../shared/serverList';
import { IRunlabConnection } from '../tokens';
import { newestFirst } from './format';
import { IModelsModel } from './tokens';

/** Most recently updated first. */
export function sortModels(models: readonly Model[]): Model[] {
  return [...models].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.name.localeCompare(b.name));
}

export function applyModelUpdate(models: readonly Model[], model: Model): Model[] {
  return sortModels([...models.filter((existing) => existing.name !== model.name), model]);
}

/** The versions with an alias move applied: the alias leaves its old holder and joins the new one. */
export function applyAliasMove<T extends Pick<ModelVersion, 'version' | 'aliases'>>(versions: readonly T[], move: AliasMove): T[] {
  return versions.map((version) => {
    const without = version.aliases.filter((alias) => alias !== move.alias);
    const aliases = version.version === move.toVersion ? [...without, move.alias].sort() : without;
    return aliases.length === version.aliases.length && aliases.every((alias, index) => alias === version.aliases[index])
      ? version
      : { ...version, aliases };
  });
}

/** The model's alias → version table with a move applied (its event arrives before model:updated, or alone). */
export function applyAliasMoveToModel(model: Model, move: AliasMove): Model {
  const aliases = { ...model.aliases };
  if (move.toVersion === null) {
    delete aliases[move.alias];
  } else {
    aliases[move.alias] = move.toVersion;
  }
  return { ...model, aliases };
}

export class ModelsModel extends ServerListModel implements IModelsModel {
  constructor(private readonly _connection: IRunlabConnection) {
    super(_connection, 'the models', 'models');
    _connection.on('model:updated', (model) => this._setModels(applyModelUpdate(this._models, model)), this);
    _connection.on(
      'model:deleted',
      ({ name }) => {
        this._versions.delete(name);
        this._history.delete(name);
        this._setModels(this._models.filter((model) => model.name !== name));
      },
      this
    );
    _connection.on('model:version-created', (version) => this._addVersion(version), this);
    _connection.on('model:alias-moved', (move) => this._applyMove(move), this);
  }

  get models(): readonly Model[] {
    return this._models;
  }

  model(name: string): Model | null {
    return this._models.find((model) => model.name === name) ?? null;
  }

  versions(name: string): readonly ModelVersion[] | null {
    return this._versions.get(name) ?? null;
  }

  history(name: string): readonly AliasMove[] | null {
    return this._history.get(name) ?? null;
  }

  protected async load(): Promise<void> {
    const { models } = await this._connection.api.models.listModels({ query: { limit: 1000 } });
    this._models = sortModels(models);
    // Versions and histories a view shows are read again too: events may have been missed.
    await Promise.all([
      ...[...this._versions.keys()].map((name) => this.loadVersions(name).catch(() => undefined)),
      ...[...this._history.keys()].map((name) => this.loadHistory(name).catch(() => undefined))
    ]);
  }

  async loadVersions(name: string): Promise<readonly ModelVersion[]> {
    const { versions } = await this._connection.api.models.listModelVersions({ params: { name } });
    const sorted = newestFirst(versions);
    this._versions.set(name, sorted);
    this.emitChanged();
    return sorted;
  }

  async loadHistory(name: string): Promise<readonly AliasMove[]> {
    const { moves } = await this._connection.api.models.getAliasHistory({ params: { name } });
    this._history.set(name, moves);
    this.emitChanged();
    return moves;
  }

  async setAlias(name: string, alias: string, version: number, reason: string, expectedVersion?: number | null): Promise<AliasMove> {
    const body = expectedVersion === undefined ? { version, reason } : { version, reason, expectedVersion };
    const move = await this._connection.api.models.setModelAlias({ params: { name, alias }, body });
    this._applyMove(move);
    return move;
  }

  async rollbackAlias(name: string, alias: string, reason: string): Promise<AliasMove> {
    const move = await this._connection.api.models.rollbackModelAlias({ params: { name, alias }, body: { reason } });
    this._applyMove(move);
    return move;
  }

  async deleteAlias(name: string, alias: string, reason: string): Promise<AliasMove> {
    const move = await this._connection.api.models.deleteModelAlias({ params: { name, alias }, query: { reason } });
    this._applyMove(move);
    return move;
  }

  private _setModels(models: Model[]): void {
    this._models = models;
    this.emitChanged();
  }

  private _addVersion(version: ModelVersion): void {
    const versions = this._versions.get(version.modelName);
    if (versions) {
      this._versions.set(version.modelName, newestFirst([...versions.filter((existing) => existing.id !== version.id), version]));
    }
    const model = this.model(version.modelName);
    if (!model) {
      // A new model: its model:updated event may not have come; read the list.
      void this.refresh();
      return;
    }
    this._setModels(
      applyModelUpdate(this._models, {
        ...model,
        versionCount: Math.max(model.versionCount, version.version),
        latestVersion: Math.max(model.latestVersion ?? 0, version.version),
        updatedAt: version.createdAt > model.updatedAt ? version.createdAt : model.updatedAt
      })
    );
  }

  private _applyMove(move: AliasMove): void {
    const history = this._history.get(move.modelName);
    // The answer to our own move and its event both arrive: apply it once.
    if (history && !history.some((existing) => existing.id === move.id)) {
      this._history.set(move.modelName, [move, ...history]);
    }
    const versions = this._versions.get(move.modelName);
    if (versions) {
      this._versions.set(move.modelName, applyAliasMove(versions, move));
    }
    const model = this.model(move.modelName);
    if (model) {
      this._models = this._models.map((existing) => (existing === model ? applyAliasMoveToModel(model, move) : existing));
    }
    this.emitChanged();
  }

  private _models: Model[] = [];
  private _versions = new Map<string, ModelVersion[]>();
  private _history = new Map<string, AliasMove[]>();
}
