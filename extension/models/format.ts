/** How models, versions and alias moves read in the Models panel, the version view and the dialogs. */
import type { AliasMove, Model, ModelVersion, SignatureField } from '../../server/src/contract';
import { formatNumber } from '../shared/format';

/** `v3`. */
export function versionLabel(version: number | null): string {
  return version === null ? '—' : `v${version}`;
}

/** `[-1, 4]` reads as `any × 4`; a column is `any` rows. */
export function shapeText(shape: readonly number[]): string {
  return shape.length ? shape.map((size) => (size === -1 ? 'any' : String(size))).join(' × ') : 'scalar';
}

export interface ISignatureRow {
  name: string;
  kind: string;
  datatype: string;
  shape: string;
  required: boolean;
}

/** A signature's inputs or outputs as table rows; unnamed ones named as the runtime names them (`input`, or `input-0`, `input-1`…). */
export function signatureRows(fields: readonly SignatureField[] | null, unnamed: 'input' | 'output' = 'input'): ISignatureRow[] {
  return (fields ?? []).map((field, index) => ({
    name: field.name ?? (fields!.length === 1 ? unnamed : `${unnamed}-${index}`),
    kind: field.kind,
    datatype: field.datatype,
    shape: shapeText(field.shape),
    required: field.required
  }));
}

/** The run's metrics as `name value` pairs, by name. */
export function metricEntries(metrics: Record<string, number | null>): [string, string][] {
  return Object.entries(metrics)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => [name, value === null ? '—' : formatNumber(value)]);
}

/** `accuracy 0.974 · loss 0.08`: the first few metrics on one line. */
export function metricsSummary(metrics: Record<string, number | null>, limit = 3): string {
  return metricEntries(metrics)
    .slice(0, limit)
    .map(([name, value]) => `${name} ${value}`)
    .join(' · ');
}

/** `v2 → v3`, `new → v3`, `v3 → removed`. */
export function moveText(move: Pick<AliasMove, 'fromVersion' | 'toVersion'>): string {
  const from = move.fromVersion === null ? 'new' : `v${move.fromVersion}`;
  const to = move.toVersion === null ? 'removed' : `v${move.toVersion}`;
  return `${from} → ${to}`;
}

/**
 * Whether "Roll back" has somewhere to go: the alias was moved at least once from an earlier
 * holder (its latest move has a `from`).
 */
export function canRollBack(history: readonly AliasMove[], alias: string): boolean {
  const latest = history.find((move) => move.alias === alias);
  return !!latest && latest.fromVersion !== null && latest.toVersion !== null;
}

/** Models whose name, description, tags or projects contain every word of the query. */
export function filterModels(models: readonly Model[], query: string): Model[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) {
    return [...models];
  }
  return models.filter((model) => {
    const text = [model.name, model.description, ...model.projects, ...Object.entries(model.tags).flat(), ...Object.keys(model.aliases)]
      .join(' ')
      .toLowerCase();
    return words.every((word) => text.includes(word));
  });
}

/** Newest first: by creation time, then by number. */
export function newestFirst<T extends Pick<ModelVersion, 'createdAt' | 'version'>>(versions: readonly T[]): T[] {
  return [...versions].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.version - a.version);
}

/** The newest version logged from this notebook (its runs' notebook path), or null. */
export function latestFromNotebook<T extends Pick<ModelVersion, 'createdAt' | 'version' | 'notebookPath'>>(
  versions: readonly T[],
  notebookPath: string | null
): T | null {
  if (!notebookPath) {
    return null;
  }
  const normalized = notebookPath.replace(/^\/+/, '');
  return newestFirst(versions.filter((version) => version.notebookPath?.replace(/^\/+/, '') === normalized))[0] ?? null;
}

/** `iris@v1` → name and version label, for the Datasets panel's reveal command. */
export function parseDatasetRef(ref: string): { name: string; version: string } | null {
  const match = /^(.+)@(v?\d+)$/.exec(ref);
  return match ? { name: match[1], version: match[2].startsWith('v') ? match[2] : `v${match[2]}` } : null;
}

/** The selectors a version can be deployed by, with what each points at now: `latest`, aliases, numbers. */
export function versionChoices(
  model: Pick<Model, 'latestVersion' | 'aliases'>,
  versions: readonly Pick<ModelVersion, 'version' | 'runMetrics' | 'createdAt'>[]
): { value: string; label: string }[] {
  const choices: { value: string; label: string }[] = [];
  if (model.latestVersion !== null) {
    choices.push({ value: 'latest', label: `latest (v${model.latestVersion})` });
  }
  for (const [alias, version] of Object.entries(model.aliases).sort(([a], [b]) => a.localeCompare(b))) {
    choices.push({ value: alias, label: `${alias} (v${version})` });
  }
  for (const version of [...versions].sort((a, b) => b.version - a.version)) {
    const metrics = metricsSummary(version.runMetrics, 2);
    choices.push({ value: `v${version.version}`, label: `v${version.version}${metrics ? ` — ${metrics}` : ''}` });
  }
  return choices;
}

/** The version number a selector points at now, or null when unknown. */
export function resolveSelector(model: Pick<Model, 'latestVersion' | 'aliases'>, selector: string): number | null {
  if (selector === 'latest') {
    return model.latestVersion;
  }
  const number = /^v?(\d+)$/.exec(selector);
  if (number) {
    return Number(number[1]);
  }
  return model.aliases[selector] ?? null;
}
