/** How the registry reads: signatures, alias moves, Roll back, search, and the Deploy dialog's defaults. */
import type { AliasMove, Model } from '../../server/src/contract';
import {
  canRollBack,
  filterModels,
  latestFromNotebook,
  metricsSummary,
  moveText,
  parseDatasetRef,
  resolveSelector,
  signatureRows,
  versionChoices
} from './format';

const model = (name: string, extra: Partial<Model> = {}): Model => ({
  name,
  description: '',
  tags: {},
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  versionCount: 3,
  latestVersion: 3,
  aliases: {},
  projects: ['demo'],
  ...extra
});

const move = (id: number, alias: string, fromVersion: number | null, toVersion: number | null): AliasMove => ({
  id,
  modelName: 'iris',
  alias,
  fromVersion,
  toVersion,
  reason: '',
  action: 'set',
  movedBy: 'admin',
  movedAt: '2026-01-01T00:00:00Z'
});

describe('signatures and metrics', () => {
  it('lists fields with readable shapes, numbering unnamed tensors', () => {
    expect(
      signatureRows([
        { name: null, kind: 'tensor', datatype: 'FP32', shape: [-1, 28, 28], required: true },
        { name: 'plan', kind: 'column', datatype: 'BYTES', shape: [-1], required: false }
      ])
    ).toEqual([
      { name: 'input-0', kind: 'tensor', datatype: 'FP32', shape: 'any × 28 × 28', required: true },
      { name: 'plan', kind: 'column', datatype: 'BYTES', shape: 'any', required: false }
    ]);
  });

  it('summarises the run metrics by name', () => {
    expect(metricsSummary({ loss: 0.0812345, accuracy: 0.973684, f1: null, zeta: 1 })).toBe('accuracy 0.9737 · f1 — · loss 0.08123');
  });
});

describe('aliases', () => {
  it('writes a move from → to', () => {
    expect(moveText(move(1, 'production', null, 1))).toBe('new → v1');
    expect(moveText(move(2, 'production', 1, 2))).toBe('v1 → v2');
    expect(moveText(move(3, 'production', 2, null))).toBe('v2 → removed');
  });

  it('offers Roll back only when the alias came from an earlier holder', () => {
    const history = [move(3, 'production', 1, 2), move(2, 'staging', null, 2), move(1, 'production', null, 1)];
    expect(canRollBack(history, 'production')).toBe(true);
    expect(canRollBack(history, 'staging')).toBe(false);
    expect(canRollBack(history, 'missing')).toBe(false);
  });
});

describe('search', () => {
  it('matches every word in names, aliases, tags and projects', () => {
    const models = [model('iris', { aliases: { production: 2 } }), model('churn', { tags: { team: 'growth' } })];
    expect(filterModels(models, 'production').map((m) => m.name)).toEqual(['iris']);
    expect(filterModels(models, 'growth churn').map((m) => m.name)).toEqual(['churn']);
    expect(filterModels(models, '  ').map((m) => m.name)).toEqual(['iris', 'churn']);
  });
});

describe('Deploy model defaults', () => {
  const versions = [
    { modelName: 'iris', version: 1, createdAt: '2026-01-01T10:00:00Z', notebookPath: 'demo.ipynb' },
    { modelName: 'churn', version: 4, createdAt: '2026-01-01T12:00:00Z', notebookPath: 'other.ipynb' },
    { modelName: 'iris', version: 2, createdAt: '2026-01-01T11:00:00Z', notebookPath: 'demo.ipynb' }
  ];
  it('picks the newest version logged from the notebook', () => {
    expect(latestFromNotebook(versions, 'demo.ipynb')).toMatchObject({ modelName: 'iris', version: 2 });
    expect(latestFromNotebook(versions, '/other.ipynb')).toMatchObject({ modelName: 'churn', version: 4 });
    expect(latestFromNotebook(versions, 'new.ipynb')).toBeNull();
    expect(latestFromNotebook(versions, null)).toBeNull();
  });

  it('offers latest, the aliases and each version, and resolves each to a number', () => {
    const iris = model('iris', { latestVersion: 2, aliases: { production: 1 } });
    const choices = versionChoices(iris, [
      { version: 1, runMetrics: { accuracy: 0.95 }, createdAt: '' },
      { version: 2, runMetrics: {}, createdAt: '' }
    ]);
    expect(choices).toEqual([
      { value: 'latest', label: 'latest (v2)' },
      { value: 'production', label: 'production (v1)' },
      { value: 'v2', label: 'v2' },
      { value: 'v1', label: 'v1 — accuracy 0.95' }
    ]);
    expect(choices.map((choice) => resolveSelector(iris, choice.value))).toEqual([2, 1, 2, 1]);
    expect(resolveSelector(iris, 'staging')).toBeNull();
  });

  it('reads a dataset version reference', () => {
    expect(parseDatasetRef('iris@v3')).toEqual({ name: 'iris', version: 'v3' });
    expect(parseDatasetRef('iris@3')).toEqual({ name: 'iris', version: 'v3' });
    expect(parseDatasetRef('iris')).toBeNull();
  });
});
