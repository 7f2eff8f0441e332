/**
 * The drift statistics on values a user can check: SciPy's documented examples, hand-computed
 * cases and properties. python/tests/test_monitoring_statistics.py compares them with SciPy itself
 * on many random inputs.
 */

import {
  benjaminiHochberg,
  chiSquare,
  jensenShannonDistance,
  kolmogorovCumulative,
  kolmogorovSurvival,
  ksAgainstSortedSample,
  ksTwoSample,
  populationStabilityIndex,
  wassersteinDistance,
  wassersteinOnUniformBins
} from './statistics';
import { normalValues, seededRandom } from '../../test/random-helpers';

describe('ksTwoSample', () => {
  it('gives D = 1 and p = 0 for samples that do not overlap', () => {
    const result = ksTwoSample(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), Float64Array.from([11, 12, 13, 14, 15, 16]));
    expect(result.statistic).toBe(1);
    expect(result.pValue).toBe(0);
  });

  it('gives D = 0 and p = 1 for identical samples', () => {
    const values = Float64Array.from([3, 1, 2, 2, 5]);
    expect(ksTwoSample(values, values)).toEqual({ statistic: 0, pValue: 1 });
  });

  it('measures the largest ECDF gap, with ties', () => {
    // F_a jumps to 3/4 at 1; F_b is 1/4 there: D = 1/2.
    const result = ksTwoSample(Float64Array.from([1, 1, 1, 2]), Float64Array.from([1, 2, 2, 2]));
    expect(result.statistic).toBeCloseTo(0.5, 12);
    // SciPy: ks_2samp([1, 1, 1, 2], [1, 2, 2, 2], method="asymp").pvalue = kstwo.sf(0.5, 2) = 0.5
    expect(result.pValue).toBeCloseTo(0.5, 12);
  });

  it('is the same whichever sample is larger, and the same as counting against the sorted reference', () => {
    const random = seededRandom(1);
    const current = normalValues(random, 20_000, 0.05);
    const reference = normalValues(random, 1000);
    const sortedReference = Float64Array.from(reference).sort();
    const forward = ksTwoSample(current, reference);
    expect(ksTwoSample(reference, current)).toEqual(forward);
    expect(ksAgainstSortedSample(current, sortedReference)).toEqual(forward);
  });

  it('skips missing values in the current sample', () => {
    const withMissing = Float64Array.from([0.1, NaN, 0.4, Infinity, 0.9]);
    const reference = Float64Array.from([0.2, 0.3, 0.5]);
    expect(ksAgainstSortedSample(withMissing, reference)).toEqual(ksTwoSample(Float64Array.from([0.1, 0.4, 0.9]), reference));
  });

  it('detects a shift of half a standard deviation and not a null sample', () => {
    const random = seededRandom(2);
    const reference = normalValues(random, 1000);
    expect(ksTwoSample(normalValues(random, 2000, 0.5), reference).pValue).toBeLessThan(1e-10);
    expect(ksTwoSample(normalValues(random, 2000), reference).pValue).toBeGreaterThan(0.01);
  });
});

describe('the Kolmogorov distribution', () => {
  it('has sf + cdf = 1 and decreases in d', () => {
    let previous = 1;
    for (const d of [0.001, 0.01, 0.02, 0.04, 0.08, 0.16, 0.3, 0.6]) {
      for (const n of [5, 100, 999, 20_000]) {
        expect(kolmogorovSurvival(d, n) + kolmogorovCumulative(d, n)).toBeCloseTo(1, 9);
      }
      const survival = kolmogorovSurvival(d, 999);
      expect(survival).toBeLessThanOrEqual(previous);
      previous = survival;
    }
  });

  it('approaches the limiting Kolmogorov distribution for large n', () => {
    // Pr(√n·D_n > 1.36) → 0.0494 (the classic 5% critical value).
    expect(kolmogorovSurvival(1.36 / Math.sqrt(100_000), 100_000)).toBeCloseTo(0.0494, 3);
  });

  it('gives the exact values at the edges of the support', () => {
    expect(kolmogorovSurvival(0, 10)).toBe(1);
    expect(kolmogorovSurvival(1, 10)).toBe(0);
    expect(kolmogorovSurvival(0.04, 10)).toBe(1); // below 1/(2n): D_n is always larger
    // Ruben–Gambino: Pr(D_n > d) = 2(1 − d)^n for d ≥ 1 − 1/n
    expect(kolmogorovSurvival(0.95, 10)).toBeCloseTo(2 * 0.05 ** 10, 20);
  });
});

describe('chiSquare', () => {
  it('matches SciPy’s documented examples', () => {
    const uniform = chiSquare([16, 18, 16, 14, 12, 12], new Array<number>(6).fill(88 / 6));
    expect(uniform.statistic).toBeCloseTo(2.0, 12);
    expect(uniform.pValue).toBeCloseTo(0.84914503608460956, 12);
    expect(uniform.degreesOfFreedom).toBe(5);
    const given = chiSquare([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8]);
    expect(given.statistic).toBeCloseTo(3.5, 12);
    expect(given.pValue).toBeCloseTo(0.62338762774958223, 12);
  });

  it('refuses totals that differ, as SciPy does', () => {
    expect(() => chiSquare([1, 2], [1, 1])).toThrow(/differs/);
  });
});

describe('wassersteinDistance', () => {
  it('matches SciPy’s documented examples', () => {
    expect(wassersteinDistance([0, 1, 3], [5, 6, 8])).toBeCloseTo(5, 12);
    expect(wassersteinDistance([0, 1], [0, 1], [3, 1], [2, 2])).toBeCloseTo(0.25, 12);
    expect(wassersteinDistance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4], [1.4, 0.9, 3.1, 7.2], [3.2, 3.5])).toBeCloseTo(4.0781331438047861, 12);
  });

  it('on uniform bins equals the distance between the bin centres weighted by the counts', () => {
    const random = seededRandom(3);
    const u = Array.from({ length: 64 }, () => Math.floor(random() * 50));
    const v = Array.from({ length: 64 }, () => Math.floor(random() * 50));
    const centres = Array.from({ length: 64 }, (_, bin) => 2 + (bin + 0.5) * 0.3);
    expect(wassersteinOnUniformBins(u, v, 0.3)).toBeCloseTo(wassersteinDistance(centres, centres, u, v), 12);
  });

  it('refuses negative weights', () => {
    expect(() => wassersteinDistance([0, 1], [0], [1, -1])).toThrow(/non-negative/);
  });
});

describe('jensenShannonDistance', () => {
  it('matches SciPy’s documented examples', () => {
    expect(jensenShannonDistance([1, 0, 0], [0, 1, 0], 2)).toBeCloseTo(1, 12);
    expect(jensenShannonDistance([1, 0], [0.5, 0.5], Math.E)).toBeCloseTo(0.46450140402245893, 12);
    expect(jensenShannonDistance([1, 0, 0], [1, 0, 0])).toBe(0);
  });

  it('normalizes counts to proportions', () => {
    expect(jensenShannonDistance([10, 30], [1, 1])).toBeCloseTo(jensenShannonDistance([0.25, 0.75], [0.5, 0.5]), 12);
  });
});

describe('populationStabilityIndex', () => {
  it('is 0 for the same proportions and sums (a − e)·ln(a/e) otherwise', () => {
    expect(populationStabilityIndex([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 12);
    const expected = 0.4 * Math.log(0.7 / 0.3) + -0.4 * Math.log(0.3 / 0.7);
    expect(populationStabilityIndex([30, 70], [70, 30])).toBeCloseTo(expected, 12);
  });

  it('floors an empty bin at epsilon, so a new bin gives a large but finite index', () => {
    const value = populationStabilityIndex([100, 0], [50, 50], 1e-4);
    expect(value).toBeCloseTo((0.5 - 1) * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4), 12);
  });
});

describe('benjaminiHochberg', () => {
  it('matches SciPy’s documented example', () => {
    const ps = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];
    const expected = [
      0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714, 0.06385714, 0.0645, 0.0765, 0.486, 0.58118182, 0.714875, 0.75323077, 0.81321429,
      1.0
    ];
    benjaminiHochberg(ps).forEach((adjusted, index) => expect(adjusted).toBeCloseTo(expected[index], 7));
  });

  it('keeps the input order', () => {
    const adjusted = benjaminiHochberg([0.04, 0.01, 0.03]);
    [0.04, 0.03, 0.04].forEach((expected, index) => expect(adjusted[index]).toBeCloseTo(expected, 15));
    expect(benjaminiHochberg([])).toEqual([]);
  });
});
