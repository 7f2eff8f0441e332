/**
 * Drift: one window of logged rows judged against the model version's reference profile (the
 * summary of its training inputs and predictions, python/runlab/models/profile.py). Pure: no I/O.
 *
 * How a window is judged
 *
 * - No reference profile: status `no_profile`, nothing judged, not drifted.
 * - Fewer than `minRows` rows (default 100): status `too_small`, with a reason such as
 *   "37 rows in this window; drift needs at least 100"; nothing judged, not drifted.
 * - Otherwise every input feature is judged against `profile.features`, and every output column
 *   against `profile.predictions`, the same way. A model with one output column is judged
 *   against the profile's one prediction column whatever the two are called (the runtime names
 *   a scikit-learn model's output after its method, `predict`; the profile calls an unnamed
 *   output `prediction`). A column's missing values (numeric: NaN or ±∞;
 *   categorical: null) are counted in `missing` and left out of the test.
 * - A numeric column with fewer than `largeWindowRows` values (default 5000) present: test `ks`,
 *   the two-sample Kolmogorov–Smirnov test against the profile's sample of (at most 1000)
 *   training values. statistic = effect size = KS D (the largest gap between the two empirical
 *   CDFs, 0–1); p-value asymptotic, as SciPy's ks_2samp(method="asymp"). Effect threshold 0.15.
 * - A numeric column with at least `largeWindowRows` values: test `wasserstein`. The current
 *   values are binned on the profile's uniform histogram bins, extended beyond the training range
 *   with bins of the same width (at most 256 extra bins on each side; values farther out land in
 *   the outermost one), so a shift outside the training range is still measured. statistic =
 *   effect size = the Wasserstein (earth mover's) distance between the reference histogram and
 *   the current one, divided by the training standard deviation (by the histogram's span when
 *   that is 0): "how many standard deviations of mass had to move". Effect threshold 0.1. The
 *   p-value is the KS test's on the same bins (the largest gap between the binned CDFs of all
 *   training values and all current values, asymptotic p-value), so that false discovery
 *   control applies to every feature alike; at these sizes it is significant for any real
 *   change, and the effect size decides. `psi`, the population stability index over the same bins
 *   (proportions floored at 1e-4), is reported alongside; it does not decide.
 * - A categorical column: the bins are the profile's categories (its 100 most frequent), then
 *   either one bin per category never seen in training (when the profile lists every training
 *   category; at most 100 such bins, the rest pooled into one) or, when the profile's list is
 *   incomplete, one "other" bin for every category outside it (a new category cannot be told
 *   from a rare one then). p-value: Pearson's chi-squared test of the current counts against
 *   those expected from the training proportions, each training count smoothed by +0.5 so a new
 *   category has a finite expectation. Effect size: the Jensen–Shannon distance (base 2, 0–1)
 *   between the training and current proportions; threshold 0.1. Fewer than `largeWindowRows`
 *   values present: test `chi_squared`, statistic χ²; otherwise test `jensen_shannon`, statistic
 *   the Jensen–Shannon distance (χ² of a large window is significant for any change at all).
 * - A column with fewer than `minRows` values present, a column of the window that the profile
 *   does not have, one of the profile that the window does not have, or one whose kind differs
 *   (numeric in one, categorical in the other) is not judged: `reason` says why, the p-values are
 *   null, the statistic and effect size 0, and it is not drifted.
 * - The p-values of every judged feature and prediction column are adjusted together by
 *   Benjamini–Hochberg. A column drifted iff its adjusted p-value < `falseDiscoveryRate`
 *   (default 0.01: about one window in a hundred with no drift at all may still flag a feature
 *   at the smallest windows; at 400 rows and more, measured, none in a thousand) AND its effect size ≥ its effect threshold: significant and large enough to
 *   matter, which keeps huge windows from flagging negligible changes.
 * - The window: driftedShare = drifted input features / judged input features (0 when none is
 *   judged); drifted iff driftedShare ≥ `driftShare` (default 0.5). Drifted prediction columns
 *   do not change the window's verdict; alert rules read the per-column results.
 */

import type { FeatureProfile, ReferenceProfile } from '../contract/models';
import {
  benjaminiHochberg,
  chiSquare,
  jensenShannonDistance,
  ksAgainstSortedSample,
  ksTwoSampleAsymptoticPValue,
  populationStabilityIndex,
  wassersteinOnUniformBins
} from './statistics';

export interface DriftOptions {
  /** Below this many rows a window is not judged (too_small); also the fewest values a column needs. */
  minRows: number;
  /** From this many values present, the large-sample tests (wasserstein, jensen_shannon) decide. */
  largeWindowRows: number;
  /** Benjamini–Hochberg false discovery rate across a window's columns. */
  falseDiscoveryRate: number;
  /** The window drifted when at least this share of its judged input features drifted. */
  driftShare: number;
}

export const DEFAULT_DRIFT_OPTIONS: DriftOptions = { minRows: 100, largeWindowRows: 5000, falseDiscoveryRate: 0.01, driftShare: 0.5 };

export type DriftTest = 'ks' | 'wasserstein' | 'chi_squared' | 'jensen_shannon';

/**
 * The smallest effect size that counts as drift, per test: KS D of 0.15 (the CDFs 15 points
 * apart somewhere; every window is compared with the same 1000-value training sample, whose own
 * error of a few points then recurs in every window, and at 0.1 three no-drift windows in a
 * hundred of 500 rows still crossed it), 0.1 training standard deviations of Wasserstein distance, and a
 * Jensen–Shannon distance of 0.1 for categories (chi_squared and jensen_shannon both measure
 * their effect by it).
 */
export const EFFECT_THRESHOLDS: Readonly<Record<DriftTest, number>> = { ks: 0.15, wasserstein: 0.1, chi_squared: 0.1, jensen_shannon: 0.1 };

/** Floor of each bin's proportion in the PSI, so that an empty bin gives a finite term. */
export const PSI_EPSILON = 1e-4;
/** Bins added beyond each end of the reference histogram, of the same width. */
export const MAX_EXTRA_BINS = 256;
/** Categorical: categories never seen in training that get a bin of their own. */
export const MAX_NEW_CATEGORY_BINS = 100;
/** Added to every training category's count, so that a new category's expected count is finite. */
export const CATEGORY_SMOOTHING = 0.5;
/** The bin of categories outside an incomplete training list. */
export const OTHER_CATEGORY = '(other)';
/** The bin of new categories past MAX_NEW_CATEGORY_BINS. */
export const OTHER_NEW_CATEGORY = '(other new categories)';

/** A window's column: numeric values (NaN = missing) or categories (null = missing). */
export type WindowColumn = { kind: 'numeric'; values: Float64Array } | { kind: 'categorical'; values: (string | null)[] };

export interface FeatureDriftResult {
  name: string;
  role: 'input' | 'prediction';
  kind: 'numeric' | 'categorical';
  test: DriftTest;
  statistic: number;
  pValue: number | null;
  adjustedPValue: number | null;
  effectSize: number;
  effectThreshold: number;
  psi: number | null;
  drifted: boolean;
  rows: number;
  missing: number;
  reason: string | null;
}

export interface DriftJudgement {
  status: 'judged' | 'too_small' | 'no_profile';
  reason: string | null;
  rows: number;
  drifted: boolean;
  driftedShare: number;
  features: FeatureDriftResult[];
  predictions: FeatureDriftResult[];
}

type Role = FeatureDriftResult['role'];

export function judgeWindow(
  profile: ReferenceProfile | null,
  inputs: Map<string, WindowColumn>,
  outputs: Map<string, WindowColumn>,
  options: Partial<DriftOptions> = {}
): DriftJudgement {
  const settings: DriftOptions = { ...DEFAULT_DRIFT_OPTIONS, ...options };
  const rows = windowRows(inputs, outputs);
  const unjudged = { rows, drifted: false, driftedShare: 0, features: [], predictions: [] };
  if (profile === null) {
    return { status: 'no_profile', reason: 'this model version has no reference profile to compare with', ...unjudged };
  }
  if (rows < settings.minRows) {
    return { status: 'too_small', reason: `${rows} rows in this window; drift needs at least ${settings.minRows}`, ...unjudged };
  }
  const features = judgeColumns(profile.features, inputs, 'input', rows, settings);
  const predictions = judgeColumns(profile.predictions, alignPredictionColumns(profile, outputs), 'prediction', rows, settings);
  controlFalseDiscoveries([...features, ...predictions], settings.falseDiscoveryRate);
  const judgedInputs = features.filter((feature) => feature.reason === null);
  const driftedShare = judgedInputs.length === 0 ? 0 : judgedInputs.filter((feature) => feature.drifted).length / judgedInputs.length;
  return {
    status: 'judged',
    reason: null,
    rows,
    drifted: judgedInputs.length > 0 && driftedShare >= settings.driftShare,
    driftedShare,
    features,
    predictions
  };
}

/** The outputs named as the profile names its predictions (see the header: one output, one name). */
export function alignPredictionColumns(profile: ReferenceProfile | null, outputs: Map<string, WindowColumn>): Map<string, WindowColumn> {
  if (profile === null || profile.predictions.length !== 1 || outputs.size !== 1) return outputs;
  const [[name, column]] = [...outputs];
  const profiled = profile.predictions[0].name;
  return name === profiled ? outputs : new Map([[profiled, column]]);
}

function windowRows(...columnSets: Map<string, WindowColumn>[]): number {
  let rows = 0;
  for (const columns of columnSets) {
    for (const column of columns.values()) {
      rows = Math.max(rows, column.values.length);
    }
  }
  return rows;
}

/** The profile's columns in its order, then the window's columns the profile lacks. */
function judgeColumns(
  profiles: FeatureProfile[],
  columns: Map<string, WindowColumn>,
  role: Role,
  rows: number,
  settings: DriftOptions
): FeatureDriftResult[] {
  const results: FeatureDriftResult[] = [];
  const profiled = new Set<string>();
  for (const feature of profiles) {
    profiled.add(feature.name);
    const column = columns.get(feature.name);
    if (column === undefined) {
      results.push(notJudged(feature.name, role, feature.kind, rows, rows, 'not in this window'));
    } else if (column.kind !== feature.kind) {
      const reason = `${feature.kind} in the reference profile but ${column.kind} in this window`;
      results.push(notJudged(feature.name, role, column.kind, column.values.length, 0, reason));
    } else if (column.kind === 'numeric') {
      results.push(judgeNumeric(feature, column.values, role, settings));
    } else {
      results.push(judgeCategorical(feature, column.values, role, settings));
    }
  }
  for (const [name, column] of columns) {
    if (!profiled.has(name)) {
      results.push(notJudged(name, role, column.kind, column.values.length, 0, 'not in the reference profile'));
    }
  }
  return results;
}

function notJudged(
  name: string,
  role: Role,
  kind: FeatureDriftResult['kind'],
  rows: number,
  missing: number,
  reason: string
): FeatureDriftResult {
  const test: DriftTest = kind === 'numeric' ? 'ks' : 'chi_squared';
  return {
    name,
    role,
    kind,
    test,
    statistic: 0,
    pValue: null,
    adjustedPValue: null,
    effectSize: 0,
    effectThreshold: EFFECT_THRESHOLDS[test],
    psi: null,
    drifted: false,
    rows,
    missing,
    reason
  };
}

function tooFewValues(present: number, missing: number, settings: DriftOptions): string | null {
  return present >= settings.minRows
    ? null
    : `${present} values present in this window (${missing} missing); drift needs at least ${settings.minRows}`;
}

function judged(
  feature: FeatureProfile,
  role: Role,
  rows: number,
  missing: number,
  test: DriftTest,
  statistic: number,
  pValue: number,
  effectSize: number,
  psi: number | null
): FeatureDriftResult {
  return {
    name: feature.name,
    role,
    kind: feature.kind,
    test,
    statistic,
    pValue,
    adjustedPValue: null,
    effectSize,
    effectThreshold: EFFECT_THRESHOLDS[test],
    psi,
    drifted: false,
    rows,
    missing,
    reason: null
  };
}

// ---------------------------------------------------------------------------------------------
// numeric

function judgeNumeric(feature: FeatureProfile, values: Float64Array, role: Role, settings: DriftOptions): FeatureDriftResult {
  const rows = values.length;
  const reference = feature.numeric;
  if (reference === null || reference.sample.length === 0) {
    return notJudged(feature.name, role, 'numeric', rows, countMissingNumbers(values), 'no training values in the reference profile');
  }
  const sortedSample = Float64Array.from(reference.sample).sort();
  // Values present ≤ rows, so a window short of largeWindowRows rows is small whatever is missing.
  if (rows < settings.largeWindowRows) {
    const missing = countMissingNumbers(values);
    const present = rows - missing;
    const tooFew = tooFewValues(present, missing, settings);
    if (tooFew !== null) {
      return notJudged(feature.name, role, 'numeric', rows, missing, tooFew);
    }
    const ks = ksAgainstSortedSample(values, sortedSample);
    return judged(feature, role, rows, missing, 'ks', ks.statistic, ks.pValue, ks.statistic, null);
  }
  const bins = binOnReferenceGrid(reference.histogram, values);
  if (bins === null) {
    return notJudged(feature.name, role, 'numeric', rows, countMissingNumbers(values), 'no histogram in the reference profile');
  }
  const missing = rows - bins.present;
  const tooFew = tooFewValues(bins.present, missing, settings);
  if (tooFew !== null) {
    return notJudged(feature.name, role, 'numeric', rows, missing, tooFew);
  }
  if (bins.present < settings.largeWindowRows) {
    // Many values missing: the window is small after all.
    const ks = ksAgainstSortedSample(values, sortedSample);
    return judged(feature, role, rows, missing, 'ks', ks.statistic, ks.pValue, ks.statistic, null);
  }
  const pValue = binnedKolmogorovSmirnovPValue(bins.reference, bins.current);
  const span = bins.width * reference.histogram.counts.length;
  const scale = reference.std !== null && reference.std > 0 ? reference.std : span;
  const distance = wassersteinOnUniformBins(bins.reference, bins.current, bins.width) / scale;
  const psi = populationStabilityIndex(Array.from(bins.reference), Array.from(bins.current), PSI_EPSILON);
  return judged(feature, role, rows, missing, 'wasserstein', distance, pValue, distance, psi);
}

/**
 * A large window's significance: the KS test on the binned CDFs (the gap at the bin edges) of
 * every training value against every current value, with the asymptotic p-value. Binning keeps
 * a million-row window to one pass with no sort; with both samples this large any real change
 * is significant, so the effect size (the Wasserstein distance) is what decides.
 */
function binnedKolmogorovSmirnovPValue(reference: Float64Array, current: Float64Array): number {
  let referenceTotal = 0;
  let currentTotal = 0;
  for (let bin = 0; bin < reference.length; bin++) {
    referenceTotal += reference[bin];
    currentTotal += current[bin];
  }
  if (referenceTotal === 0 || currentTotal === 0) return 1;
  let referenceBelow = 0;
  let currentBelow = 0;
  let gap = 0;
  for (let bin = 0; bin < reference.length; bin++) {
    referenceBelow += reference[bin];
    currentBelow += current[bin];
    gap = Math.max(gap, Math.abs(referenceBelow / referenceTotal - currentBelow / currentTotal));
  }
  return ksTwoSampleAsymptoticPValue(Math.min(gap, 1), currentTotal, referenceTotal);
}

function countMissingNumbers(values: Float64Array): number {
  let missing = 0;
  for (let index = 0; index < values.length; index++) {
    if (!Number.isFinite(values[index])) {
      missing++;
    }
  }
  return missing;
}

interface GridCounts {
  /** Left edge of bin 0 of the extended grid. */
  firstEdge: number;
  width: number;
  reference: Float64Array;
  current: Float64Array;
  present: number;
}

/**
 * The current values counted on the reference histogram's uniform bins, extended by up to
 * MAX_EXTRA_BINS bins of the same width on each side, trimmed to the bins either side uses.
 * Binning is arithmetic on the edges (no search, no sort); a value on the last reference edge
 * falls in the last reference bin, as numpy.histogram counts it.
 */
function binOnReferenceGrid(histogram: { edges: number[]; counts: number[] }, values: Float64Array): GridCounts | null {
  const referenceBins = histogram.counts.length;
  if (referenceBins === 0 || histogram.edges.length !== referenceBins + 1) {
    return null;
  }
  const low = histogram.edges[0];
  const high = histogram.edges[referenceBins];
  const width = (high - low) / referenceBins;
  if (!(width > 0) || !Number.isFinite(width)) {
    return null;
  }
  const totalBins = referenceBins + 2 * MAX_EXTRA_BINS;
  const current = new Float64Array(totalBins);
  const lastBin = totalBins - 1;
  let present = 0;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value - value !== 0) {
      continue; // NaN or ±∞: missing
    }
    present++;
    let bin = value === high ? MAX_EXTRA_BINS + referenceBins - 1 : Math.floor((value - low) / width) + MAX_EXTRA_BINS;
    bin = bin < 0 ? 0 : bin > lastBin ? lastBin : bin;
    current[bin]++;
  }
  const reference = new Float64Array(totalBins);
  reference.set(histogram.counts, MAX_EXTRA_BINS);
  let first = 0;
  while (first < lastBin && current[first] === 0 && reference[first] === 0) {
    first++;
  }
  let last = lastBin;
  while (last > first && current[last] === 0 && reference[last] === 0) {
    last--;
  }
  return {
    firstEdge: low + (first - MAX_EXTRA_BINS) * width,
    width,
    reference: reference.slice(first, last + 1),
    current: current.slice(first, last + 1),
    present
  };
}

/**
 * Reference and current counts of a numeric feature on the same bins, for the UI's histogram:
 * the reference histogram's uniform bins, extended as far as the current values need (see
 * binOnReferenceGrid). Missing values are left out.
 */
export function binAgainstReference(
  feature: FeatureProfile,
  values: Float64Array
): { edges: number[]; reference: number[]; current: number[] } {
  const bins = feature.numeric === null ? null : binOnReferenceGrid(feature.numeric.histogram, values);
  if (bins === null) {
    return { edges: [], reference: [], current: [] };
  }
  const edges = Array.from({ length: bins.reference.length + 1 }, (_, index) => bins.firstEdge + index * bins.width);
  return { edges, reference: Array.from(bins.reference), current: Array.from(bins.current) };
}

// ---------------------------------------------------------------------------------------------
// categorical

interface CategoryCounts {
  categories: string[];
  reference: number[];
  current: number[];
  present: number;
}

/** Training and current counts over the bins the module header describes. */
function countCategories(reference: NonNullable<FeatureProfile['categorical']>, values: (string | null)[]): CategoryCounts {
  const currentByCategory = new Map<string, number>();
  let present = 0;
  for (const value of values) {
    if (value !== null) {
      present++;
      currentByCategory.set(value, (currentByCategory.get(value) ?? 0) + 1);
    }
  }
  const categories = Object.keys(reference.counts);
  const referenceCounts = categories.map((category) => reference.counts[category]);
  const currentCounts = categories.map((category) => currentByCategory.get(category) ?? 0);
  const unknown = [...currentByCategory].filter(([category]) => !Object.hasOwn(reference.counts, category));
  if (reference.other > 0) {
    categories.push(OTHER_CATEGORY);
    referenceCounts.push(reference.other);
    currentCounts.push(unknown.reduce((total, [, count]) => total + count, 0));
  } else if (unknown.length > 0) {
    unknown.sort(([leftCategory, left], [rightCategory, right]) => right - left || (leftCategory < rightCategory ? -1 : 1));
    for (const [category, count] of unknown.slice(0, MAX_NEW_CATEGORY_BINS)) {
      categories.push(category);
      referenceCounts.push(0);
      currentCounts.push(count);
    }
    if (unknown.length > MAX_NEW_CATEGORY_BINS) {
      categories.push(OTHER_NEW_CATEGORY);
      referenceCounts.push(0);
      currentCounts.push(unknown.slice(MAX_NEW_CATEGORY_BINS).reduce((total, [, count]) => total + count, 0));
    }
  }
  return { categories, reference: referenceCounts, current: currentCounts, present };
}

function judgeCategorical(feature: FeatureProfile, values: (string | null)[], role: Role, settings: DriftOptions): FeatureDriftResult {
  const rows = values.length;
  const reference = feature.categorical;
  const counts = reference === null ? null : countCategories(reference, values);
  if (counts === null || counts.reference.every((count) => count === 0)) {
    const missing = values.filter((value) => value === null).length;
    return notJudged(feature.name, role, 'categorical', rows, missing, 'no training values in the reference profile');
  }
  const missing = rows - counts.present;
  const tooFew = tooFewValues(counts.present, missing, settings);
  if (tooFew !== null) {
    return notJudged(feature.name, role, 'categorical', rows, missing, tooFew);
  }
  const test: DriftTest = counts.present < settings.largeWindowRows ? 'chi_squared' : 'jensen_shannon';
  const distance = jensenShannonDistance(counts.reference, counts.current, 2);
  const { statistic, pValue } = smoothedChiSquare(counts.reference, counts.current);
  return judged(feature, role, rows, missing, test, test === 'chi_squared' ? statistic : distance, pValue, distance, null);
}

/** χ² of the current counts against the training proportions smoothed by CATEGORY_SMOOTHING. */
function smoothedChiSquare(referenceCounts: number[], currentCounts: number[]): { statistic: number; pValue: number } {
  if (referenceCounts.length < 2) {
    return { statistic: 0, pValue: 1 }; // one bin: nothing can differ
  }
  const currentTotal = currentCounts.reduce((total, count) => total + count, 0);
  const smoothedTotal = referenceCounts.reduce((total, count) => total + count + CATEGORY_SMOOTHING, 0);
  const expected = referenceCounts.map((count) => (currentTotal * (count + CATEGORY_SMOOTHING)) / smoothedTotal);
  return chiSquare(currentCounts, expected);
}

/**
 * Training and current counts of a categorical feature over the same categories, for the UI's
 * bar chart (the bins the module header describes). Missing values are left out.
 */
export function binCategoriesAgainstReference(
  feature: FeatureProfile,
  values: (string | null)[]
): { categories: string[]; reference: number[]; current: number[] } {
  if (feature.categorical === null) {
    return { categories: [], reference: [], current: [] };
  }
  const { categories, reference, current } = countCategories(feature.categorical, values);
  return { categories, reference, current };
}

// ---------------------------------------------------------------------------------------------

function controlFalseDiscoveries(results: FeatureDriftResult[], falseDiscoveryRate: number): void {
  const tested = results.filter((result) => result.pValue !== null);
  const adjusted = benjaminiHochberg(tested.map((result) => result.pValue as number));
  tested.forEach((result, index) => {
    result.adjustedPValue = adjusted[index];
    result.drifted = adjusted[index] < falseDiscoveryRate && result.effectSize >= result.effectThreshold;
  });
}
