/** The registry model against a fake connection: live versions and alias moves, applied once. */
import { Signal } from '@lumino/signaling';
import type { AliasMove, Model, ModelVersion } from '../../server/src/contract';
import type { IRunlabConnection } from '../tokens';
import { applyAliasMove, ModelsModel } from './model';

type Handler = (payload: unknown) => void;

const model = (name: string, extra: Partial<Model> = {}): Model => ({
  name,
  description: '',
  tags: {},
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  versionCount: 1,
  latestVersion: 1,
  aliases: {},
  projects: [],
  ...extra
});

const version = (number: number, extra: Partial<ModelVersion> = {}): ModelVersion => ({
  id: `mv${number}`,
  modelName: 'iris',
  version: number,
  flavor: 'sklearn',
  description: '',
  tags: {},
  source: 'runlab',
  runId: null,
  runName: null,
  projectName: null,
  notebookPath: null,
  snapshotCommit: null,
  datasetVersions: [],
  runMetrics: {},
  signature: null,
  inputExample: null,
  requirements: [],
  hasProfile: false,
  files: [],
  sizeBytes: 0,
  aliases: [],
  createdAt: `2026-01-01T00:00:0${number}Z`,
  createdBy: 'admin',
  ...extra
});

const move = (id: number, fromVersion: number | null, toVersion: number | null): AliasMove => ({
  id,
  modelName: 'iris',
  alias: 'production',
  fromVersion,
  toVersion,
  reason: '',
  action: 'set',
  movedBy: 'admin',
  movedAt: '2026-01-01T00:00:00Z'
});

function fakeConnection(api: Record<string, (...args: unknown[]) => Promise<unknown>>) {
  const handlers = new Map<string, Handler[]>();
  const connection = {
    state: { status: 'connected' },
    stateChanged: new Signal<object, unknown>({}),
    api: { models: api },
    on: (name: string, handler: Handler) => {
      handlers.set(name, [...(handlers.get(name) ?? []), handler]);
      return { dispose: () => undefined, isDisposed: false };
    }
  } as unknown as IRunlabConnection;
  const emit = (name: string, payload: unknown) => (handlers.get(name) ?? []).forEach((handler) => handler(payload));
  return { connection, emit };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('alias moves', () => {
  it('moves the alias from its old holder to the new one', () => {
    const versions = [version(2), version(1, { aliases: ['production', 'staging'] })];
    const moved = applyAliasMove(versions, move(1, 1, 2));
    expect(moved.map((v) => v.aliases)).toEqual([['production'], ['staging']]);
    expect(applyAliasMove(moved, move(2, 2, null)).map((v) => v.aliases)).toEqual([[], ['staging']]);
  });
});

describe('ModelsModel', () => {
  it('follows new versions, and applies our own move and its event once', async () => {
    const { connection, emit } = fakeConnection({
      listModels: async () => ({ models: [model('iris', { aliases: { production: 1 } })] }),
      listModelVersions: async () => ({ versions: [version(1, { aliases: ['production'] })] }),
      getAliasHistory: async () => ({ moves: [move(1, null, 1)] }),
      setModelAlias: async () => move(2, 1, 2)
    });
    const registry = new ModelsModel(connection);
    await settle();
    await Promise.all([registry.loadVersions('iris'), registry.loadHistory('iris')]);
    emit('model:version-created', version(2));
    expect(registry.versions('iris')!.map((v) => v.version)).toEqual([2, 1]);
    expect(registry.model('iris')?.latestVersion).toBe(2);

    const answer = await registry.setAlias('iris', 'production', 2, 'better', 1);
    emit('model:alias-moved', answer);
    expect(registry.history('iris')!.map((m) => m.id)).toEqual([2, 1]);
    expect(registry.versions('iris')!.map((v) => v.aliases)).toEqual([['production'], []]);
    expect(registry.model('iris')?.aliases).toEqual({ production: 2 });

    emit('model:deleted', { name: 'iris' });
    expect(registry.models).toEqual([]);
    expect(registry.versions('iris')).toBeNull();
  });
});
