/**
 * Two-sample and goodness-of-fit statistics for drift monitoring: pure functions, no I/O.
 *
 * Each one gives what SciPy gives on the same inputs (to 1e-6, absolute or relative; checked by
 * python/tests/test_monitoring_statistics.py against SciPy itself):
 *
 * | here                       | SciPy                                                        |
 * |----------------------------|--------------------------------------------------------------|
 * | `ksTwoSample`              | `scipy.stats.ks_2samp(a, b, method="asymp")` (two-sided)      |
 * | `kolmogorovSurvival`       | `scipy.stats.kstwo.sf(d, n)`                                  |
 * | `chiSquare`                | `scipy.stats.chisquare(f_obs, f_exp)`                         |
 * | `wassersteinDistance`      | `scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`|
 * | `jensenShannonDistance`    | `scipy.spatial.distance.jensenshannon(p, q, base)`            |
 * | `benjaminiHochberg`        | `scipy.stats.false_discovery_control(ps, method="bh")`        |
 *
 * `populationStabilityIndex` has no SciPy counterpart; its formula is documented on it.
 *
 * Values are expected finite; the KS functions skip NaN and ±∞ in the larger sample (missing
 * values), where SciPy would propagate NaN and rank ±∞.
 */

import gammainc from '@stdlib/math-base-special-gammainc';

export interface TestResult {
  statistic: number;
  pValue: number;
}

// ---------------------------------------------------------------------------------------------
// Kolmogorov–Smirnov
// ---------------------------------------------------------------------------------------------

/**
 * Two-sided two-sample KS test, as `ks_2samp(a, b, method="asymp")`: D = sup |F_a − F_b|, and
 * the p-value `kstwo.sf(D, round(n·m / (n + m)))`. The smaller sample is sorted and the larger
 * one only counted against it, so a huge `a` costs one pass (D is symmetric in a and b).
 */
export function ksTwoSample(a: Float64Array, b: Float64Array): TestResult {
  const [larger, smaller] = a.length >= b.length ? [a, b] : [b, a];
  return ksAgainstSortedSample(larger, sortedFinite(smaller));
}

/**
 * The same test as `ksTwoSample(current, sortedReference)`, for a reference already sorted
 * ascending (NaN-free). `current` is not sorted: each value is counted into the gaps between
 * and onto the distinct reference points (a guide table over the reference range then a binary
 * search in one cell), which is all D needs, because both ECDFs are step functions: between two
 * reference points F_reference is constant, so the extremes of F_current − F_reference are just
 * before the next point and at the point itself.
 */
export function ksAgainstSortedSample(current: Float64Array, sortedReference: Float64Array): TestResult {
  const reference = distinctWithCounts(sortedReference);
  const referenceSize = sortedReference.length;
  if (referenceSize === 0) {
    throw new RangeError('KS test: the reference sample is empty');
  }
  // buckets[2k]: current values strictly below point k (and above point k−1); buckets[2k+1]: equal to point k.
  const buckets = countIntoReferenceGaps(current, reference.values);
  let currentSize = 0;
  for (let index = 0; index < buckets.length; index++) {
    currentSize += buckets[index];
  }
  if (currentSize === 0) {
    throw new RangeError('KS test: the current sample is empty');
  }
  let largestDifference = 0;
  let currentBelow = 0;
  let referenceBelow = 0;
  for (let point = 0; point < reference.values.length; point++) {
    currentBelow += buckets[2 * point];
    // Just before the point: F_current has risen, F_reference has not yet.
    largestDifference = Math.max(largestDifference, Math.abs(currentBelow / currentSize - referenceBelow / referenceSize));
    currentBelow += buckets[2 * point + 1];
    referenceBelow += reference.counts[point];
    largestDifference = Math.max(largestDifference, Math.abs(currentBelow / currentSize - referenceBelow / referenceSize));
  }
  const statistic = Math.min(largestDifference, 1);
  return { statistic, pValue: ksTwoSampleAsymptoticPValue(statistic, currentSize, referenceSize) };
}

/** SciPy's method="asymp" two-sided p-value: kstwo.sf(d, round(m·n/(m+n))). */
export function ksTwoSampleAsymptoticPValue(statistic: number, firstSize: number, secondSize: number): number {
  const effectiveSize = (firstSize * secondSize) / (firstSize + secondSize);
  // np.round rounds half to even; Math.round rounds half up.
  return clampProbability(kolmogorovSurvival(statistic, roundHalfToEven(effectiveSize)));
}

function sortedFinite(values: Float64Array): Float64Array {
  let present = 0;
  for (let index = 0; index < values.length; index++) {
    if (Number.isFinite(values[index])) {
      present++;
    }
  }
  const sorted = new Float64Array(present);
  let next = 0;
  for (let index = 0; index < values.length; index++) {
    if (Number.isFinite(values[index])) {
      sorted[next++] = values[index];
    }
  }
  return sorted.sort();
}

function distinctWithCounts(sorted: Float64Array): { values: Float64Array; counts: Float64Array } {
  const values: number[] = [];
  const counts: number[] = [];
  for (let index = 0; index < sorted.length; index++) {
    if (values.length > 0 && values[values.length - 1] === sorted[index]) {
      counts[counts.length - 1]++;
    } else {
      values.push(sorted[index]);
      counts.push(1);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts) };
}

const GUIDE_CELLS_PER_POINT = 4;

/**
 * Counts of `values` into the 2K+1 buckets around K distinct sorted points (see
 * ksAgainstSortedSample). A guide table over [first point, last point] gives, for each cell, the
 * range of points it spans, so most values need one or two comparisons.
 */
function countIntoReferenceGaps(values: Float64Array, points: Float64Array): Float64Array {
  const pointCount = points.length;
  const buckets = new Float64Array(2 * pointCount + 1);
  const first = points[0];
  const last = points[pointCount - 1];
  const cellCount = Math.max(1, pointCount * GUIDE_CELLS_PER_POINT);
  const cellsPerUnit = last > first && Number.isFinite(last - first) ? cellCount / (last - first) : 0;
  // guide[c] = index of the first point ≥ the cell's left edge; guide[cellCount] = pointCount.
  const guide = new Int32Array(cellCount + 1);
  let pointIndex = 0;
  for (let cell = 0; cell <= cellCount; cell++) {
    const leftEdge = cell === cellCount ? Infinity : first + cell / cellsPerUnit;
    while (pointIndex < pointCount && points[pointIndex] < leftEdge) {
      pointIndex++;
    }
    guide[cell] = cell === 0 ? 0 : pointIndex;
  }
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value - value !== 0) {
      continue; // NaN or ±∞: missing
    }
    if (value < first) {
      buckets[0]++;
      continue;
    }
    if (value > last) {
      buckets[2 * pointCount]++;
      continue;
    }
    let low = 0;
    let high = pointCount;
    if (cellsPerUnit !== 0) {
      const cell = Math.min(cellCount - 1, Math.floor((value - first) * cellsPerUnit));
      // Rounding in the cell arithmetic can be off by one: widen by a point either side.
      low = guide[cell] > 0 ? guide[cell] - 1 : 0;
      high = guide[cell + 1] < pointCount ? guide[cell + 1] + 1 : pointCount;
    }
    // First point ≥ value in [low, high): a few steps forward (cells hold about one point each),
    // a binary search when a cell holds many.
    if (high - low <= 8) {
      while (low < high && points[low] < value) {
        low++;
      }
    } else {
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (points[middle] < value) {
          low = middle + 1;
        } else {
          high = middle;
        }
      }
    }
    buckets[low < pointCount && points[low] === value ? 2 * low + 1 : 2 * low]++;
  }
  return buckets;
}

// ---------------------------------------------------------------------------------------------
// The Kolmogorov distribution of D_n (two-sided, one sample of size n)
//
// No npm package computes it (the @stdlib KS test uses the asymptotic kolmogorov, not the exact
// finite-n distribution SciPy's kstwo uses), so this is a port of SciPy's scipy/stats/_ksstats.py
// (Simard & L'Ecuyer 2011: Ruben–Gambino, Durbin matrix, Pomeranz, Pelz–Good and 2·smirnov, each
// where it is accurate) and of the one-sided exact `smirnov` (Birnbaum–Tingey sum) from SciPy's
// special functions. Same regime boundaries as SciPy, so the same values.
// ---------------------------------------------------------------------------------------------

const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
const MIN_LOG = -708;
const SCALE_EXPONENT = 128;
const SCALE_UP = 2 ** SCALE_EXPONENT;
const SCALE_DOWN = 2 ** -SCALE_EXPONENT;
/** B₂ⱼ/(2j(2j−1)) for j = 8…1 (SciPy's _STIRLING_COEFFS), highest order first. */
const STIRLING_COEFFICIENTS = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];

/** Pr(D_n > d), as `scipy.stats.kstwo.sf(d, n)`. */
export function kolmogorovSurvival(d: number, n: number): number {
  return kolmogorovDistribution(n, d, false);
}

/** Pr(D_n ≤ d), as `scipy.stats.kstwo.cdf(d, n)`. */
export function kolmogorovCumulative(d: number, n: number): number {
  return kolmogorovDistribution(n, d, true);
}

function select(cdfProbability: number, survivalProbability: number, cdf: boolean): number {
  return clampProbability(cdf ? cdfProbability : survivalProbability);
}

function kolmogorovDistribution(n: number, x: number, cdf: boolean): number {
  if (Number.isNaN(n) || Number.isNaN(x) || !Number.isInteger(n) || n <= 0) {
    return NaN;
  }
  if (x >= 1) {
    return select(1, 0, cdf);
  }
  if (x <= 0) {
    return select(0, 1, cdf);
  }
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: 1/2n ≤ x ≤ 1/n
    if (t <= 0.5) {
      return select(0, 1, cdf);
    }
    let probability: number;
    if (n <= 140) {
      probability = 1;
      for (let i = 1; i <= n; i++) {
        probability *= i * (1 / n) * (2 * t - 1);
      }
    } else {
      probability = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return select(probability, 1 - probability, cdf);
  }
  if (t >= n - 1) {
    // Ruben–Gambino
    const probability = 2 * (1 - x) ** n;
    return select(1 - probability, probability, cdf);
  }
  if (x >= 0.5) {
    const probability = 2 * smirnovSurvival(n, x);
    return select(1 - probability, probability, cdf);
  }
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) {
      const probability = durbinMatrixCumulative(n, x);
      return select(probability, 1 - probability, cdf);
    }
    if (nxSquared <= 4) {
      const probability = pomeranzCumulative(n, x);
      return select(probability, 1 - probability, cdf);
    }
    const probability = 2 * smirnovSurvival(n, x);
    return select(1 - probability, probability, cdf);
  }
  if (!cdf) {
    if (nxSquared >= 370) {
      return 0;
    }
    if (nxSquared >= 2.2) {
      return clampProbability(2 * smirnovSurvival(n, x));
    }
  }
  let cumulative: number;
  if (nxSquared >= 18) {
    cumulative = 1;
  } else if (n <= 100000 && n * x ** 1.5 <= 1.4) {
    cumulative = durbinMatrixCumulative(n, x);
  } else {
    cumulative = pelzGoodCumulative(n, x);
  }
  return select(cumulative, 1 - cumulative, cdf);
}

/** log(n!/nⁿ) by Stirling's series, with n·log(n) removed up front to avoid cancellation. */
function logFactorialOverPower(n: number): number {
  const reciprocal = 1 / n;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + reciprocal * evaluatePolynomial(STIRLING_COEFFICIENTS, reciprocal / n);
}

function evaluatePolynomial(coefficientsHighestFirst: readonly number[], x: number): number {
  let result = 0;
  for (const coefficient of coefficientsHighestFirst) {
    result = result * x + coefficient;
  }
  return result;
}

function multiplyMatrices(left: Float64Array, right: Float64Array, size: number): Float64Array {
  const product = new Float64Array(size * size);
  for (let row = 0; row < size; row++) {
    for (let inner = 0; inner < size; inner++) {
      const factor = left[row * size + inner];
      if (factor === 0) {
        continue;
      }
      for (let column = 0; column < size; column++) {
        product[row * size + column] += factor * right[inner * size + column];
      }
    }
  }
  return product;
}

/** Pr(D_n ≤ d) by Durbin's matrix, as Marsaglia, Tsang & Wang (2003) compute it (SciPy's _kolmogn_DMTW). */
function durbinMatrixCumulative(n: number, d: number): number {
  if (d >= 1) {
    return 1;
  }
  const nd = n * d;
  if (nd <= 0.5) {
    return 0;
  }
  const k = Math.ceil(nd);
  const h = k - nd;
  const size = 2 * k - 1;
  const v = new Float64Array(size);
  const w = new Float64Array(size);
  let factorial = 1;
  for (let j = 1; j <= size; j++) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  const correction = Math.max(2 * h - 1, 0) ** size - 2 * h ** size;
  v[size - 1] = (1 + correction) * factorial;

  let matrix: Float64Array = new Float64Array(size * size);
  for (let i = 1; i < size; i++) {
    for (let row = i - 1; row < size; row++) {
      matrix[row * size + i] = w[row - (i - 1)];
    }
  }
  for (let row = 0; row < size; row++) {
    matrix[row * size] = v[row];
  }
  for (let column = 0; column < size; column++) {
    matrix[(size - 1) * size + column] = v[size - 1 - column];
  }

  let power: Float64Array = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    power[i * size + i] = 1;
  }
  let remaining = n;
  let exponent = 0;
  let matrixExponent = 0;
  const diagonal = (k - 1) * size + (k - 1);
  while (remaining > 0) {
    if (remaining % 2 === 1) {
      power = multiplyMatrices(power, matrix, size);
      exponent += matrixExponent;
    }
    matrix = multiplyMatrices(matrix, matrix, size);
    matrixExponent *= 2;
    if (Math.abs(matrix[diagonal]) > SCALE_UP) {
      for (let index = 0; index < matrix.length; index++) {
        matrix[index] /= SCALE_UP;
      }
      matrixExponent += SCALE_EXPONENT;
    }
    remaining = Math.floor(remaining / 2);
  }
  let probability = power[diagonal];
  for (let i = 1; i <= n; i++) {
    probability = (i * probability) / n;
    if (Math.abs(probability) < SCALE_DOWN) {
      probability *= SCALE_UP;
      exponent -= SCALE_EXPONENT;
    }
  }
  return clampProbability(exponent === 0 ? probability : probability * 2 ** exponent);
}

function pomeranzRowRange(i: number, n: number, floorT: number, ceilFraction: number, roundFraction: number): [number, number] {
  let first: number;
  let last: number;
  if (i === 0) {
    first = -floorT - ceilFraction - 1;
    last = floorT + ceilFraction - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        first = n - floorT - ceilFraction - 1;
        last = n + floorT + ceilFraction - 1;
      } else {
        first = half - 1 - floorT - roundFraction - 1;
        last = half + floorT - 1 + ceilFraction - 1;
      }
    } else {
      first = half - 1 - floorT - 1;
      last = half + floorT + roundFraction - 1;
    }
  }
  return [Math.max(first + 2, 0), Math.min(last, n)];
}

/** Pr(D_n ≤ x) by Pomeranz's recursion (1974), as SciPy's _kolmogn_Pomeranz. */
function pomeranzCumulative(n: number, x: number): number {
  const t = n * x;
  const floorT = Math.floor(t);
  const fraction = t - floorT;
  const g = Math.min(fraction, 1 - fraction);
  const ceilFraction = fraction > 0 ? 1 : 0;
  const roundFraction = fraction > 0.5 ? 1 : 0;
  const powerCount = 2 * (floorT + 1);
  const gPower = new Float64Array(powerCount);
  const twoGPower = new Float64Array(powerCount);
  const oneMinusTwoGPower = new Float64Array(powerCount);
  gPower[0] = 1;
  twoGPower[0] = 1;
  oneMinusTwoGPower[0] = 1;
  for (let m = 1; m < powerCount; m++) {
    gPower[m] = (gPower[m - 1] * (g / n)) / m;
    twoGPower[m] = (twoGPower[m - 1] * ((2 * g) / n)) / m;
    oneMinusTwoGPower[m] = (oneMinusTwoGPower[m - 1] * ((1 - 2 * g) / n)) / m;
  }
  let previous = new Float64Array(powerCount);
  let row = new Float64Array(powerCount);
  row[0] = 1;
  let previousStart = 0;
  let rowStart = 0;
  let exponent = 0;
  let [first, last] = pomeranzRowRange(0, n, floorT, ceilFraction, roundFraction);
  for (let i = 1; i < 2 * n + 2; i++) {
    const previousFirst = first;
    [previous, row] = [row, previous];
    [previousStart, rowStart] = [rowStart, previousStart];
    row.fill(0);
    [first, last] = pomeranzRowRange(i, n, floorT, ceilFraction, roundFraction);
    const powers = i === 1 || i === 2 * n + 1 ? gPower : i % 2 === 1 ? twoGPower : oneMinusTwoGPower;
    const length = last - previousFirst + 1;
    if (length > 0) {
      const offset = previousFirst - previousStart;
      // NumPy clips slices at the array's end: the two convolved pieces may be shorter than `length`.
      const previousLength = Math.min(length, powerCount - offset);
      const powersLength = Math.min(length, powerCount);
      const convolutionStart = first - previousFirst;
      const used = last - first + 1;
      let largest = 0;
      for (let out = 0; out < used; out++) {
        const position = convolutionStart + out; // index into the full convolution of two length-`length` arrays
        let sum = 0;
        const lowest = Math.max(0, position - (powersLength - 1));
        const highest = Math.min(position, previousLength - 1);
        for (let j = lowest; j <= highest; j++) {
          sum += previous[offset + j] * powers[position - j];
        }
        row[out] = sum;
        largest = Math.max(largest, sum);
      }
      if (largest > 0 && largest < SCALE_DOWN) {
        for (let index = 0; index < row.length; index++) {
          row[index] *= SCALE_UP;
        }
        exponent -= SCALE_EXPONENT;
      }
      rowStart = previousStart + first - previousFirst;
    }
  }
  let answer = row[n - rowStart];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > SCALE_UP) {
      answer *= SCALE_DOWN;
      exponent += SCALE_EXPONENT;
    }
    answer *= m;
  }
  return clampProbability(exponent === 0 ? answer : answer * 2 ** exponent);
}

/** The Pelz–Good (1976) approximation of Pr(D_n ≤ x), as SciPy's _kolmogn_PelzGood. */
function pelzGoodCumulative(n: number, x: number): number {
  if (x <= 0) {
    return 0;
  }
  if (x >= 1) {
    return 1;
  }
  const z = Math.sqrt(n) * x;
  const zSquared = z ** 2;
  const zThree = z ** 3;
  const zFour = z ** 4;
  const zSix = z ** 6;
  const qLog = -PI_SQUARED / 8 / zSquared;
  if (qLog < MIN_LOG) {
    return 0;
  }
  let q = Math.exp(qLog);
  const k1a = -zSquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zSix + 2 * zFour;
  const k2b = ((2 * zFour - 5 * zSquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zSquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zSquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zSquared + 212 * zFour)) / 16;
  const k3b = (PI_SQUARED * (135 * zFour - 96 * zSix)) / 4;
  const k3a = -30 * zSix - 90 * z ** 8;
  const terms = [0, 0, 0, 0];
  const maxK = Math.ceil((16 * z) / Math.PI);
  for (let k = maxK; k > 0; k--) {
    const m = 2 * k - 1;
    const mSquared = m ** 2;
    const mFour = m ** 4;
    const mSix = m ** 6;
    const qPower = q ** (8 * k);
    const coefficients = [1, k1a + k1b * mSquared, k2a + k2b * mSquared + k2c * mFour, k3a + k3b * mSquared + k3c * mFour + k3d * mSix];
    for (let i = 0; i < 4; i++) {
      terms[i] = terms[i] * qPower + coefficients[i];
    }
  }
  const denominators = [z, 6 * zFour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) {
    terms[i] = (terms[i] * q * SQRT_2PI) / denominators[i];
  }
  q = Math.exp(-PI_SQUARED / 2 / zSquared);
  const sqrt3z = Math.sqrt(3) * z;
  let k2Extra = 0;
  let k3Extra = 0;
  for (let k = maxK; k > 0; k--) {
    const kSquared = k ** 2;
    const qPower = q ** kSquared;
    const kPi = Math.PI * k;
    k2Extra += kSquared * qPower;
    k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * kSquared * qPower;
  }
  terms[2] += (k2Extra * PI_SQUARED * SQRT_2PI) / (-36 * zThree);
  terms[3] += (k3Extra * PI_SQUARED * SQRT_2PI) / (216 * zSix);
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    sum += terms[i] / n ** (i / 2);
  }
  return sum;
}

const SMIRNOV_MAX_COMPUTE_N = 1_000_000;
/** log of the smallest subnormal double, cephes' MINLOG: below it the survival function underflows. */
const CEPHES_MIN_LOG = -745.1332191019412;

/**
 * Pr(D⁺_n ≥ x), the one-sided statistic's survival function, as `scipy.special.smirnov(n, x)`:
 * the exact Birnbaum–Tingey sum x·Σ_j C(n,j)(1−x−j/n)^(n−j)(x+j/n)^(j−1). SciPy sums it in
 * double-double arithmetic; every term is positive, so summing in log space in doubles keeps
 * ~1e-12 relative accuracy, enough here.
 */
export function smirnovSurvival(n: number, x: number): number {
  if (!(n > 0) || Number.isNaN(x)) {
    return NaN;
  }
  if (x >= 1) {
    return 0; // beyond the support, as scipy.stats.ksone.sf
  }
  if (x <= 0) {
    return 1;
  }
  if (n === 1) {
    return 1 - x;
  }
  if (x === 0) {
    return 1;
  }
  if (x === 1) {
    return 0;
  }
  const nx = n * x;
  if (nx <= 1) {
    return 1 - x * (1 + x) ** (n - 1);
  }
  if (-2 * n * x * x < CEPHES_MIN_LOG) {
    return 0;
  }
  if (Math.floor(nx) >= n - 1) {
    return (1 - x) ** n;
  }
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    return Math.exp(-((6 * n * x + 1) ** 2) / 18 / n);
  }
  let sum = 0;
  let logBinomial = 0; // log C(n, j)
  for (let j = 0; j < n; j++) {
    const remaining = (n - j) / n - x; // 1 − x − j/n
    if (remaining <= 0) {
      break;
    }
    const logTerm = logBinomial + (n - j) * Math.log(remaining) + (j - 1) * Math.log(x + j / n);
    const term = Math.exp(logTerm);
    sum += term;
    if (term !== 0 && 4 * (n - j) * term < Number.EPSILON * sum) {
      break;
    }
    logBinomial += Math.log(n - j) - Math.log(j + 1);
  }
  return clampProbability(x * sum);
}

// ---------------------------------------------------------------------------------------------
// Chi-squared goodness of fit
// ---------------------------------------------------------------------------------------------

/**
 * Pearson's chi-squared test of `observed` counts against `expected` counts, as
 * `scipy.stats.chisquare(f_obs, f_exp)`: Σ (o−e)²/e with k−1 degrees of freedom. Like SciPy, the
 * two must have the same total (relative tolerance 1e-8). The p-value is the upper regularized
 * incomplete gamma Q(dof/2, χ²/2), which stays accurate in the far tail where 1 − cdf would not.
 */
export function chiSquare(observed: number[], expected: number[]): TestResult & { degreesOfFreedom: number } {
  if (observed.length !== expected.length) {
    throw new RangeError(`chi-squared: ${observed.length} observed counts but ${expected.length} expected`);
  }
  const observedTotal = sum(observed);
  const expectedTotal = sum(expected);
  if (Math.abs(observedTotal - expectedTotal) > 1e-8 * Math.max(Math.abs(observedTotal), Math.abs(expectedTotal))) {
    throw new RangeError(`chi-squared: observed total ${observedTotal} differs from expected total ${expectedTotal}`);
  }
  let statistic = 0;
  for (let index = 0; index < observed.length; index++) {
    const difference = observed[index] - expected[index];
    statistic += (difference * difference) / expected[index];
  }
  const degreesOfFreedom = observed.length - 1;
  return { statistic, pValue: chiSquaredSurvival(statistic, degreesOfFreedom), degreesOfFreedom };
}

/** Pr(χ²_dof > statistic), as `scipy.stats.chi2.sf`. */
export function chiSquaredSurvival(statistic: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0) || Number.isNaN(statistic)) {
    return NaN;
  }
  if (statistic <= 0) {
    return 1;
  }
  return gammainc(statistic / 2, degreesOfFreedom / 2, true, true);
}

// ---------------------------------------------------------------------------------------------
// Distances between distributions
// ---------------------------------------------------------------------------------------------

/**
 * The first Wasserstein (earth mover's) distance between two 1-D distributions given by their
 * values and optional non-negative weights, as `scipy.stats.wasserstein_distance`:
 * ∫ |U(t) − V(t)| dt over the two (weighted) ECDFs.
 */
export function wassersteinDistance(
  uValues: ArrayLike<number>,
  vValues: ArrayLike<number>,
  uWeights?: ArrayLike<number>,
  vWeights?: ArrayLike<number>
): number {
  const u = weightedSorted(uValues, uWeights, 'u');
  const v = weightedSorted(vValues, vWeights, 'v');
  // Walk the merged sorted values; between consecutive ones both ECDFs are constant.
  let uIndex = 0;
  let vIndex = 0;
  let uCumulative = 0;
  let vCumulative = 0;
  let distance = 0;
  let previous = Math.min(u.values[0], v.values[0]);
  while (uIndex < u.values.length || vIndex < v.values.length) {
    const next = Math.min(uIndex < u.values.length ? u.values[uIndex] : Infinity, vIndex < v.values.length ? v.values[vIndex] : Infinity);
    distance += Math.abs(uCumulative / u.total - vCumulative / v.total) * (next - previous);
    while (uIndex < u.values.length && u.values[uIndex] === next) {
      uCumulative += u.weights[uIndex++];
    }
    while (vIndex < v.values.length && v.values[vIndex] === next) {
      vCumulative += v.weights[vIndex++];
    }
    previous = next;
  }
  return distance;
}

/**
 * The Wasserstein distance between two histograms over the same uniform bins (mass at the bin
 * centres): Σ |U_k − V_k|·width over the cumulative proportions. Equal to
 * `wassersteinDistance(centres, centres, uCounts, vCounts)`, in one pass and without sorting.
 */
export function wassersteinOnUniformBins(uCounts: ArrayLike<number>, vCounts: ArrayLike<number>, binWidth: number): number {
  const uTotal = sum(uCounts);
  const vTotal = sum(vCounts);
  let uCumulative = 0;
  let vCumulative = 0;
  let distance = 0;
  for (let bin = 0; bin < uCounts.length - 1; bin++) {
    uCumulative += uCounts[bin];
    vCumulative += vCounts[bin];
    distance += Math.abs(uCumulative / uTotal - vCumulative / vTotal);
  }
  return distance * binWidth;
}

function weightedSorted(
  values: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  name: string
): { values: Float64Array; weights: Float64Array; total: number } {
  if (values.length === 0) {
    throw new RangeError(`Wasserstein distance: no ${name} values`);
  }
  if (weights !== undefined && weights.length !== values.length) {
    throw new RangeError(`Wasserstein distance: ${values.length} ${name} values but ${weights.length} weights`);
  }
  const order = Array.from({ length: values.length }, (_, index) => index).sort((left, right) => values[left] - values[right]);
  const sortedValues = new Float64Array(values.length);
  const sortedWeights = new Float64Array(values.length);
  let total = 0;
  order.forEach((original, position) => {
    const weight = weights === undefined ? 1 : weights[original];
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw new RangeError(`Wasserstein distance: ${name} weights must be finite and non-negative`);
    }
    sortedValues[position] = values[original];
    sortedWeights[position] = weight;
    total += weight;
  });
  if (!(total > 0)) {
    throw new RangeError(`Wasserstein distance: the ${name} weights sum to zero`);
  }
  return { values: sortedValues, weights: sortedWeights, total };
}

/**
 * The Jensen–Shannon distance between two discrete distributions (each normalized to sum to 1),
 * as `scipy.spatial.distance.jensenshannon(p, q, base)`: √((KL(p‖m) + KL(q‖m)) / 2), m = (p+q)/2,
 * logarithms in `base`. With base 2 it lies in [0, 1].
 */
export function jensenShannonDistance(p: number[], q: number[], base = 2): number {
  if (p.length !== q.length) {
    throw new RangeError(`Jensen–Shannon distance: ${p.length} and ${q.length} probabilities`);
  }
  const pTotal = sum(p);
  const qTotal = sum(q);
  let divergence = 0;
  for (let index = 0; index < p.length; index++) {
    const pShare = p[index] / pTotal;
    const qShare = q[index] / qTotal;
    const middle = (pShare + qShare) / 2;
    divergence += relativeEntropy(pShare, middle) + relativeEntropy(qShare, middle);
  }
  return Math.sqrt(divergence / Math.log(base) / 2);
}

/** scipy.special.rel_entr: x·log(x/y), 0 when x = 0. */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) {
    return x * Math.log(x / y);
  }
  return x === 0 && y >= 0 ? 0 : Infinity;
}

/**
 * The population stability index of `actual` against `expected` (counts or proportions over the
 * same bins): Σ (a − e)·ln(a / e) over the proportions a = actual/Σactual and e = expected/Σexpected,
 * each first raised to at least `epsilon` so that an empty bin gives a large but finite term (the
 * proportions are not renormalized after that). No SciPy counterpart. Common reading: < 0.1
 * stable, 0.1–0.25 moderate shift, > 0.25 large shift.
 */
export function populationStabilityIndex(expected: number[], actual: number[], epsilon = 1e-4): number {
  if (expected.length !== actual.length) {
    throw new RangeError(`population stability index: ${expected.length} expected bins but ${actual.length} actual`);
  }
  const expectedTotal = sum(expected);
  const actualTotal = sum(actual);
  let total = 0;
  for (let index = 0; index < expected.length; index++) {
    const expectedShare = Math.max(expected[index] / expectedTotal, epsilon);
    const actualShare = Math.max(actual[index] / actualTotal, epsilon);
    total += (actualShare - expectedShare) * Math.log(actualShare / expectedShare);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Multiple testing
// ---------------------------------------------------------------------------------------------

/**
 * Benjamini–Hochberg adjusted p-values, as `scipy.stats.false_discovery_control(ps, method="bh")`:
 * p_(i)·m/i made monotone from the largest down, clipped to [0, 1], in the input's order.
 * Rejecting those below q controls the false discovery rate at q.
 */
export function benjaminiHochberg(pValues: number[]): number[] {
  const count = pValues.length;
  const order = pValues.map((_, index) => index).sort((left, right) => pValues[left] - pValues[right] || left - right);
  const adjusted = new Array<number>(count);
  let smallestSoFar = Infinity;
  for (let rank = count; rank >= 1; rank--) {
    const original = order[rank - 1];
    smallestSoFar = Math.min(smallestSoFar, (pValues[original] * count) / rank);
    adjusted[original] = clampProbability(smallestSoFar);
  }
  return adjusted;
}

// ---------------------------------------------------------------------------------------------

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let index = 0; index < values.length; index++) {
    total += values[index];
  }
  return total;
}

function clampProbability(probability: number): number {
  return Number.isNaN(probability) ? probability : Math.min(1, Math.max(0, probability));
}

function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) {
    return Math.round(value);
  }
  return floor % 2 === 0 ? floor : floor + 1;
}
