/**
 * Judging windows against a reference profile: what a user of the Monitoring view would see. The
 * profiles are built here the way python/runlab/models/profile.py builds them (64-bin histogram
 * over the training range, 1000-value sample, top categories), from seeded training data.
 */

import type { FeatureProfile, ReferenceProfile } from '../contract/models';
import {
  binAgainstReference,
  binCategoriesAgainstReference,
  DEFAULT_DRIFT_OPTIONS,
  EFFECT_THRESHOLDS,
  judgeWindow,
  type DriftJudgement,
  type WindowColumn
} from './drift';
import { normalValues, seededRandom } from '../../test/random-helpers';

const CITIES = ['paris', 'lyon', 'nantes', 'lille', 'nice'];
const CITY_WEIGHTS = [0.4, 0.25, 0.15, 0.12, 0.08];

function cityValues(random: () => number, size: number, newCityShare = 0): (string | null)[] {
  return Array.from({ length: size }, () => {
    if (random() < newCityShare) {
      return 'atlantis';
    }
    let draw = random();
    for (let index = 0; index < CITIES.length; index++) {
      draw -= CITY_WEIGHTS[index];
      if (draw < 0) {
        return CITIES[index];
      }
    }
    return CITIES[CITIES.length - 1];
  });
}

const roundTo6 = (value: number): number => Number(value.toPrecision(6));

function numericProfile(name: string, values: Float64Array): FeatureProfile {
  const low = values.reduce((a, b) => Math.min(a, b), Infinity);
  const high = values.reduce((a, b) => Math.max(a, b), -Infinity);
  const bins = 64;
  const width = (high - low) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    counts[Math.min(bins - 1, Math.floor((value - low) / width))]++;
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((total, value) => total + (value - mean) ** 2, 0) / values.length);
  return {
    name,
    kind: 'numeric',
    count: values.length,
    missing: 0,
    numeric: {
      min: roundTo6(low),
      max: roundTo6(high),
      mean: roundTo6(mean),
      std: roundTo6(std),
      quantiles: [],
      histogram: { edges: Array.from({ length: bins + 1 }, (_, index) => roundTo6(low + index * width)), counts },
      // The training values are independent draws: the first 1000 are a uniform sample.
      sample: Array.from(values.subarray(0, 1000), roundTo6)
    },
    categorical: null
  };
}

function categoricalProfile(name: string, values: (string | null)[]): FeatureProfile {
  const counts: Record<string, number> = {};
  for (const value of values) {
    if (value !== null) {
      counts[value] = (counts[value] ?? 0) + 1;
    }
  }
  return {
    name,
    kind: 'categorical',
    count: values.length,
    missing: 0,
    numeric: null,
    categorical: { counts, other: 0, distinct: Object.keys(counts).length }
  };
}

const numeric = (values: Float64Array): WindowColumn => ({ kind: 'numeric', values });
const categorical = (values: (string | null)[]): WindowColumn => ({ kind: 'categorical', values });

/** Training data: age ~ N(40, 10), income ~ N(3000, 800), score ~ N(0, 1), city; prediction ~ N(0.3, 0.1). */
function trainingProfile(): ReferenceProfile {
  const random = seededRandom(42);
  const rows = 50_000;
  return {
    rows,
    features: [
      numericProfile('age', normalValues(random, rows, 40, 10)),
      numericProfile('income', normalValues(random, rows, 3000, 800)),
      numericProfile('score', normalValues(random, rows)),
      categoricalProfile('city', cityValues(random, rows))
    ],
    predictions: [numericProfile('prediction', normalValues(random, rows, 0.3, 0.1))]
  };
}

interface WindowChanges {
  ageStd?: number;
  incomeMean?: number;
  newCityShare?: number;
  predictionMean?: number;
}

function window(random: () => number, rows: number, changes: WindowChanges = {}): [Map<string, WindowColumn>, Map<string, WindowColumn>] {
  const inputs = new Map<string, WindowColumn>([
    ['age', numeric(normalValues(random, rows, 40, changes.ageStd ?? 10))],
    ['income', numeric(normalValues(random, rows, changes.incomeMean ?? 3000, 800))],
    ['score', numeric(normalValues(random, rows))],
    ['city', categorical(cityValues(random, rows, changes.newCityShare ?? 0))]
  ]);
  const outputs = new Map<string, WindowColumn>([['prediction', numeric(normalValues(random, rows, changes.predictionMean ?? 0.3, 0.1))]]);
  return [inputs, outputs];
}

const driftedNames = (judgement: DriftJudgement): string[] =>
  [...judgement.features, ...judgement.predictions].filter((feature) => feature.drifted).map((feature) => feature.name);

const profile = trainingProfile();

describe('judgeWindow refuses what it cannot judge', () => {
  it('refuses a window below minRows, saying how many rows it has and needs', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(1), 37));
    expect(judgement).toEqual({
      status: 'too_small',
      reason: '37 rows in this window; drift needs at least 100',
      rows: 37,
      drifted: false,
      driftedShare: 0,
      features: [],
      predictions: []
    });
  });

  it('says so when the model version has no reference profile', () => {
    const judgement = judgeWindow(null, ...window(seededRandom(1), 500));
    expect(judgement.status).toBe('no_profile');
    expect(judgement.drifted).toBe(false);
    expect(judgement.features).toEqual([]);
  });

  it('skips, with a reason, columns missing on either side or of another kind, and columns with too few values', () => {
    const [inputs, outputs] = window(seededRandom(2), 1000);
    inputs.delete('score');
    inputs.set('height', numeric(new Float64Array(1000)));
    inputs.set('age', categorical(new Array<string>(1000).fill('forty')));
    const income = inputs.get('income')!.values as Float64Array;
    income.fill(NaN, 0, 950);
    const judgement = judgeWindow(profile, inputs, outputs);
    const reasons = Object.fromEntries(judgement.features.map((feature) => [feature.name, feature.reason]));
    expect(reasons).toEqual({
      age: 'numeric in the reference profile but categorical in this window',
      income: '50 values present in this window (950 missing); drift needs at least 100',
      score: 'not in this window',
      city: null,
      height: 'not in the reference profile'
    });
    const skipped = judgement.features.filter((feature) => feature.reason !== null);
    expect(skipped.every((feature) => !feature.drifted && feature.pValue === null && feature.adjustedPValue === null)).toBe(true);
    expect(judgement.features.find((feature) => feature.name === 'income')!.missing).toBe(950);
    // Only city was judged: the share is over judged features.
    expect(judgement.driftedShare).toBe(0);
  });
});

describe('judgeWindow picks the test by window size', () => {
  it('uses KS against the training sample on small windows, chi-squared for categories', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(3), 1000));
    expect(judgement.status).toBe('judged');
    const tests = Object.fromEntries([...judgement.features, ...judgement.predictions].map((feature) => [feature.name, feature.test]));
    expect(tests).toEqual({ age: 'ks', income: 'ks', score: 'ks', city: 'chi_squared', prediction: 'ks' });
    for (const feature of judgement.features) {
      expect(feature.pValue).not.toBeNull();
      expect(feature.adjustedPValue).toBeGreaterThanOrEqual(feature.pValue!);
      expect(feature.effectThreshold).toBe(EFFECT_THRESHOLDS[feature.test]);
    }
    const age = judgement.features[0];
    expect(age.effectSize).toBe(age.statistic); // KS D
    expect(age.psi).toBeNull();
    expect(driftedNames(judgement)).toEqual([]);
  });

  it('uses Wasserstein on the histogram bins and Jensen–Shannon on large windows', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(4), DEFAULT_DRIFT_OPTIONS.largeWindowRows));
    const tests = Object.fromEntries([...judgement.features, ...judgement.predictions].map((feature) => [feature.name, feature.test]));
    expect(tests).toEqual({
      age: 'wasserstein',
      income: 'wasserstein',
      score: 'wasserstein',
      city: 'jensen_shannon',
      prediction: 'wasserstein'
    });
    for (const feature of judgement.features.filter((feature) => feature.kind === 'numeric')) {
      expect(feature.psi).not.toBeNull();
      expect(feature.pValue).not.toBeNull(); // KS against the sample, for false discovery control
      expect(feature.effectSize).toBeLessThan(0.05);
    }
    expect(driftedNames(judgement)).toEqual([]);
  });

  it('honours the options', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(5), 300), { minRows: 500 });
    expect(judgement.reason).toBe('300 rows in this window; drift needs at least 500');
    const large = judgeWindow(profile, ...window(seededRandom(5), 300), { largeWindowRows: 200 });
    expect(large.features[0].test).toBe('wasserstein');
  });
});

describe('judgeWindow finds the drift and names it', () => {
  it('a mean shift of half a standard deviation, on small and large windows', () => {
    for (const rows of [1000, 100_000]) {
      const judgement = judgeWindow(profile, ...window(seededRandom(6), rows, { incomeMean: 3000 + 0.5 * 800 }));
      expect(driftedNames(judgement)).toEqual(['income']);
      const income = judgement.features.find((feature) => feature.name === 'income')!;
      expect(income.test).toBe(rows < 5000 ? 'ks' : 'wasserstein');
      expect(income.adjustedPValue).toBeLessThan(0.05);
      // A mean shift of 0.5 std moves Wasserstein by 0.5 std; KS D by 2Φ(0.25) − 1 ≈ 0.2.
      expect(income.effectSize).toBeCloseTo(rows < 5000 ? 0.2 : 0.5, 1);
      expect(judgement.driftedShare).toBe(0.25);
      expect(judgement.drifted).toBe(false);
    }
  });

  it('a doubling of the variance (large window)', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(7), 100_000, { ageStd: 10 * Math.SQRT2 }));
    expect(driftedNames(judgement)).toEqual(['age']);
    const age = judgement.features[0];
    // W1 between N(0, σ) and N(0, σ√2) is (√2 − 1)·σ·√(2/π) ≈ 0.33 σ.
    expect(age.effectSize).toBeCloseTo((Math.SQRT2 - 1) * Math.sqrt(2 / Math.PI), 1);
    expect(age.psi).toBeGreaterThan(0.1);
  });

  it('a new category, on small and large windows', () => {
    for (const rows of [2000, 100_000]) {
      const [inputs, outputs] = window(seededRandom(8), rows, { newCityShare: 0.2 });
      const judgement = judgeWindow(profile, inputs, outputs);
      expect(driftedNames(judgement)).toEqual(['city']);
      const city = judgement.features.find((feature) => feature.name === 'city')!;
      expect(city.test).toBe(rows < 5000 ? 'chi_squared' : 'jensen_shannon');
      expect(Number.isFinite(city.statistic)).toBe(true);
      expect(city.effectSize).toBeGreaterThan(0.2);
      const bars = binCategoriesAgainstReference(profile.features[3], inputs.get('city')!.values as (string | null)[]);
      expect([...bars.categories.slice(0, 5)].sort()).toEqual([...CITIES].sort());
      expect(bars.categories[5]).toBe('atlantis');
      expect(bars.reference[5]).toBe(0);
      expect(bars.current[5] / rows).toBeCloseTo(0.2, 1);
    }
  });

  it('a shift of the predictions, without calling the inputs drifted', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(9), 20_000, { predictionMean: 0.35 }));
    expect(driftedNames(judgement)).toEqual(['prediction']);
    expect(judgement.predictions[0].role).toBe('prediction');
    expect(judgement.driftedShare).toBe(0);
    expect(judgement.drifted).toBe(false);
  });

  it('the whole window once half the input features drift', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(10), 20_000, { incomeMean: 3800, newCityShare: 0.3 }));
    expect(driftedNames(judgement)).toEqual(['income', 'city']);
    expect(judgement.driftedShare).toBe(0.5);
    expect(judgement.drifted).toBe(true);
  });

  it('a shift beyond the training range, measured on the extended bins', () => {
    const judgement = judgeWindow(profile, ...window(seededRandom(11), 50_000, { incomeMean: 3000 + 10 * 800 }));
    const income = judgement.features.find((feature) => feature.name === 'income')!;
    expect(income.drifted).toBe(true);
    expect(income.effectSize).toBeCloseTo(10, 0);
  });
});

describe('judgeWindow stays quiet without drift', () => {
  // 20k rows: large windows (Wasserstein, Jensen–Shannon) at a size jest's transpiled code runs
  // in seconds; bench/monitoring.py runs 100 windows of 100k rows.
  it('raises at most one drift over 100 windows of 20k rows from the training distribution', () => {
    const random = seededRandom(12);
    let windowDrifts = 0;
    let featureDrifts = 0;
    for (let index = 0; index < 100; index++) {
      const judgement = judgeWindow(profile, ...window(random, 20_000));
      expect(judgement.status).toBe('judged');
      windowDrifts += judgement.drifted ? 1 : 0;
      featureDrifts += driftedNames(judgement).length;
    }
    expect(windowDrifts + featureDrifts).toBeLessThanOrEqual(1);
  });
});

describe('binAgainstReference', () => {
  it('puts the current values on the reference bins, extended past the training range', () => {
    const income = profile.features[1];
    const histogram = income.numeric!.histogram;
    const width = (histogram.edges[64] - histogram.edges[0]) / 64;
    const shifted = normalValues(seededRandom(13), 10_000, histogram.edges[64] + 20 * width, width);
    const bins = binAgainstReference(income, shifted);
    expect(bins.edges.length).toBe(bins.reference.length + 1);
    expect(bins.current.length).toBe(bins.reference.length);
    expect(bins.edges[0]).toBeCloseTo(histogram.edges[0], 6);
    expect(bins.edges[bins.edges.length - 1]).toBeGreaterThan(histogram.edges[64] + 20 * width);
    expect(bins.reference.reduce((a, b) => a + b, 0)).toBe(income.count);
    expect(bins.current.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(bins.edges[1] - bins.edges[0]).toBeCloseTo(width, 9);
  });
});
