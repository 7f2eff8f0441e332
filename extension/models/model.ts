/**
 * The model registry as the extension sees it: the models (live on `model:updated` /
 * `model:deleted`), and for the models a view opened, their versions (live on
 * `model:version-created`) and alias history (live on `model:alias-moved`). Every signed-in
 * browser receives these events, so no room is joined.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { AliasMove, Model, ModelVersion } from '../../server/src/contract';
import { describeError } from '../shared/errors';
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

export class ModelsModel implements IModelsModel, IDisposable {
  constructor(private readonly _connection: IRunlabConnection) {
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
    // Events missed while disconnected: what is shown is read again on every (re)connect.
    _connection.stateChanged.connect((_, state) => {
      if (state.status === 'connected') {
        void this.refresh();
      }
    }, this);
    if (_connection.state.status === 'connected') {
      void this.refresh();
    }
  }

  get models(): readonly Model[] {
    return this._models;
  }
  get loading(): boolean {
    return this._loading;
  }
  get error(): string | null {
    return this._error;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
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

  async refresh(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      const { models } = await this._connection.api.models.listModels({ query: { limit: 1000 } });
      this._error = null;
      this._models = sortModels(models);
      // Versions and histories a view shows are read again too: events may have been missed.
      await Promise.all([
        ...[...this._versions.keys()].map((name) => this.loadVersions(name).catch(() => undefined)),
        ...[...this._history.keys()].map((name) => this.loadHistory(name).catch(() => undefined))
      ]);
    } catch (error) {
      this._error = describeError('Could not load the models', error, 'models');
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  async loadVersions(name: string): Promise<readonly ModelVersion[]> {
    const { versions } = await this._connection.api.models.listModelVersions({ params: { name } });
    const sorted = newestFirst(versions);
    this._versions.set(name, sorted);
    this._changed.emit();
    return sorted;
  }

  async loadHistory(name: string): Promise<readonly AliasMove[]> {
    const { moves } = await this._connection.api.models.getAliasHistory({ params: { name } });
    this._history.set(name, moves);
    this._changed.emit();
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

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _setModels(models: Model[]): void {
    this._models = models;
    this._changed.emit();
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
    this._changed.emit();
  }

  private _models: Model[] = [];
  private _versions = new Map<string, ModelVersion[]>();
  private _history = new Map<string, AliasMove[]>();
  private _loading = false;
  private _error: string | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
