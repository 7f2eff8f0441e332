/**
 * Dataset pins of a notebook: `metadata.runlab.datasets = {"<name>": "v3"}`. Kept in the
 * notebook file, so re-opening it, re-running it and runner jobs all load the same versions.
 */
import { pythonString } from '../shared/python';

/** name → version label (`v3`). */
export type DatasetPins = Record<string, string>;

/** The notebook metadata key Runlab owns. */
export const RUNLAB_METADATA_KEY = 'runlab';

const VERSION_LABEL = /^v[1-9][0-9]{0,8}$/;
const DATASET_NAME = /^[A-Za-z0-9._-]+$/;

/** The pins in a notebook's `runlab` metadata; anything malformed is left out. */
export function readPins(runlabMetadata: unknown): DatasetPins {
  const datasets = (runlabMetadata as { datasets?: unknown } | null | undefined)?.datasets;
  if (!datasets || typeof datasets !== 'object' || Array.isArray(datasets)) {
    return {};
  }
  const pins: DatasetPins = {};
  for (const [name, version] of Object.entries(datasets as Record<string, unknown>)) {
    if (DATASET_NAME.test(name) && typeof version === 'string' && VERSION_LABEL.test(version)) {
      pins[name] = version;
    }
  }
  return pins;
}

/**
 * The `runlab` metadata with `name` pinned to `version` (or unpinned when version is null).
 * Other keys under `runlab` are kept; an empty pin set removes `datasets`.
 */
export function writePins(runlabMetadata: unknown, name: string, version: string | null): Record<string, unknown> {
  const base =
    runlabMetadata && typeof runlabMetadata === 'object' && !Array.isArray(runlabMetadata)
      ? { ...(runlabMetadata as Record<string, unknown>) }
      : {};
  const pins = { ...readPins(base) };
  if (version === null) {
    delete pins[name];
  } else {
    pins[name] = version;
  }
  const sorted = Object.fromEntries(Object.entries(pins).sort(([a], [b]) => a.localeCompare(b)));
  if (Object.keys(sorted).length) {
    base.datasets = sorted;
  } else {
    delete base.datasets;
  }
  return base;
}

/**
 * Where the picker starts: the first dataset the notebook pins that the project still has (any
 * pinned one while the list is not known yet), else the first dataset; '' with none.
 */
export function startingDataset(pins: DatasetPins, datasetNames: readonly string[]): string {
  const pinned = Object.keys(pins).find((name) => !datasetNames.length || datasetNames.includes(name));
  return pinned ?? datasetNames[0] ?? '';
}

/** The toolbar button's text: `Data: iris@v3, raw@v1`, or `Data` with no pins. */
export function pinsLabel(pins: DatasetPins, maxShown = 2): string {
  const entries = Object.entries(pins).map(([name, version]) => `${name}@${version}`);
  if (!entries.length) {
    return 'Data';
  }
  const shown = entries.slice(0, maxShown).join(', ');
  return `Data: ${shown}${entries.length > maxShown ? ` +${entries.length - maxShown}` : ''}`;
}

const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' ')
);

/** A Python identifier for a dataset's path variable: `iris-2024.v1` → `iris_2024_v1`. */
export function datasetVariableName(name: string): string {
  let identifier = name
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  if (!identifier) {
    identifier = 'dataset';
  }
  if (/^[0-9]/.test(identifier)) {
    identifier = `dataset_${identifier}`;
  }
  if (PYTHON_KEYWORDS.has(identifier)) {
    identifier = `${identifier}_`;
  }
  return identifier;
}

/** The cell that loads one pinned dataset version. */
export function loadingSnippet(name: string, version: string): string {
  return `import runlab\n${datasetVariableName(name)}_path = runlab.dataset(${pythonString(`${name}@${version}`)}).path()`;
}

/**
 * The silent kernel expression that hands the pins to the Runlab client. Guarded, so a kernel
 * with an older runlab package (no `_kernel_pins`) is left alone.
 */
export function kernelPinsExpression(pins: DatasetPins): string {
  const literal = `{${Object.entries(pins)
    .map(([name, version]) => `${pythonString(name)}: ${pythonString(version)}`)
    .join(', ')}}`;
  return `getattr(__import__('runlab'), '_kernel_pins', lambda pins: None)(${literal})`;
}
