/**
 * Metric series in memory: columns of steps, values and timestamps (float64, so steps and
 * millisecond times up to 2^53 are exact), the block codec used by the store, and
 * downsampling. Pure functions, no I/O.
 */
import { toMetricValue, type MetricPoint } from '../contract';

export interface Series {
  steps: Float64Array;
  values: Float64Array;
  timestamps: Float64Array;
}

/** Points per stored block: large enough that a 1M-point series is ~1,000 rows. */
export const BLOCK_CAPACITY = 1024;

export const emptySeries = (length = 0): Series => ({
  steps: new Float64Array(length),
  values: new Float64Array(length),
  timestamps: new Float64Array(length)
});

export function encodeBlock(series: Series, start: number, end: number): Buffer {
  const count = end - start;
  const packed = new Float64Array(count * 3);
  packed.set(series.steps.subarray(start, end), 0);
  packed.set(series.values.subarray(start, end), count);
  packed.set(series.timestamps.subarray(start, end), count * 2);
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
}

/** Views (or, when the buffer is not 8-byte aligned, a copy) of one block's columns. */
export function decodeBlock(blob: Buffer, count: number): Series {
  const aligned = blob.byteOffset % 8 === 0 ? blob : Buffer.from(blob);
  const packed = new Float64Array(aligned.buffer, aligned.byteOffset, count * 3);
  return {
    steps: packed.subarray(0, count),
    values: packed.subarray(count, count * 2),
    timestamps: packed.subarray(count * 2, count * 3)
  };
}

export function concatSeries(parts: readonly Series[]): Series {
  const total = parts.reduce((sum, part) => sum + part.steps.length, 0);
  const out = emptySeries(total);
  let offset = 0;
  for (const part of parts) {
    out.steps.set(part.steps, offset);
    out.values.set(part.values, offset);
    out.timestamps.set(part.timestamps, offset);
    offset += part.steps.length;
  }
  return out;
}

/**
 * Orders points by step, then timestamp, then insertion. The sort is stable, so equal
 * (step, timestamp) keep the order they were logged in.
 */
export function sortSeries(series: Series): Series {
  const { steps, timestamps } = series;
  const order = Array.from({ length: steps.length }, (_, index) => index);
  order.sort((a, b) => steps[a] - steps[b] || timestamps[a] - timestamps[b] || a - b);
  return pick(series, order);
}

export function pick(series: Series, indices: ArrayLike<number>): Series {
  const out = emptySeries(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    out.steps[i] = series.steps[index];
    out.values[i] = series.values[index];
    out.timestamps[i] = series.timestamps[index];
  }
  return out;
}

/** The points with minStep ≤ step ≤ maxStep of a sorted series (binary search, no copy). */
export function sliceSteps(series: Series, minStep?: number, maxStep?: number): Series {
  const lowerBound = (target: number, inclusive: boolean): number => {
    let low = 0;
    let high = series.steps.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (inclusive ? series.steps[middle] < target : series.steps[middle] <= target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const start = minStep === undefined ? 0 : lowerBound(minStep, true);
  const end = maxStep === undefined ? series.steps.length : lowerBound(maxStep, false);
  return {
    steps: series.steps.subarray(start, Math.max(start, end)),
    values: series.values.subarray(start, Math.max(start, end)),
    timestamps: series.timestamps.subarray(start, Math.max(start, end))
  };
}

/**
 * Largest-Triangle-Three-Buckets (Steinarsson, 2013): keeps the first and last points and, in
 * each of `threshold - 2` buckets, the point forming the largest triangle with its neighbours'
 * choices, which preserves peaks and the overall shape a chart shows. Returns point indices.
 */
export function lttbIndices(x: Float64Array, y: Float64Array, threshold: number): Uint32Array {
  const length = x.length;
  if (threshold >= length || threshold < 3) {
    if (threshold >= length) return Uint32Array.from({ length }, (_, index) => index);
    return Uint32Array.from(length > 1 ? [0, length - 1] : [0]);
  }
  const picked = new Uint32Array(threshold);
  const bucketSize = (length - 2) / (threshold - 2);
  let chosen = 0;
  picked[0] = 0;
  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    // Average of the next bucket: the third corner of the triangle.
    const nextStart = Math.floor((bucket + 1) * bucketSize) + 1;
    const nextEnd = Math.min(Math.floor((bucket + 2) * bucketSize) + 1, length);
    let averageX = 0;
    let averageY = 0;
    for (let index = nextStart; index < nextEnd; index++) {
      averageX += x[index];
      averageY += y[index];
    }
    const nextCount = nextEnd - nextStart || 1;
    averageX /= nextCount;
    averageY /= nextCount;

    const start = Math.floor(bucket * bucketSize) + 1;
    const end = Math.floor((bucket + 1) * bucketSize) + 1;
    const anchorX = x[chosen];
    const anchorY = y[chosen];
    let largestArea = -1;
    let largestIndex = start;
    for (let index = start; index < end; index++) {
      const area = Math.abs((anchorX - averageX) * (y[index] - anchorY) - (anchorX - x[index]) * (averageY - anchorY));
      if (area > largestArea) {
        largestArea = area;
        largestIndex = index;
      }
    }
    picked[bucket + 1] = largestIndex;
    chosen = largestIndex;
  }
  picked[threshold - 1] = length - 1;
  return picked;
}

/** Points per envelope stretch: a block keeps its min and max of every this many points. */
export const ENVELOPE_STRETCH = 64;

/**
 * The points of a block a chart cannot do without: first, last, and the min and max of each
 * stretch, in their original order. Downsampling a range of ≥ 32× maxPoints points from
 * envelopes gives the same peaks and troughs as from every point, at 1/16 of the reading.
 */
export function envelopeOf(block: Series): Series {
  const length = block.steps.length;
  const keep = new Set<number>([0, length - 1]);
  for (let start = 0; start < length; start += ENVELOPE_STRETCH) {
    const end = Math.min(start + ENVELOPE_STRETCH, length);
    let lowest = start;
    let highest = start;
    for (let index = start + 1; index < end; index++) {
      if (block.values[index] < block.values[lowest]) lowest = index;
      if (block.values[index] > block.values[highest]) highest = index;
    }
    keep.add(lowest).add(highest);
  }
  return pick(
    block,
    [...keep].sort((a, b) => a - b)
  );
}

/** At most `maxPoints` points of a sorted series, still as columns. */
export function downsampleSeries(series: Series, maxPoints: number): { series: Series; downsampled: boolean } {
  if (series.steps.length <= maxPoints) return { series, downsampled: false };
  return { series: pick(series, lttbIndices(series.steps, series.values, maxPoints)), downsampled: true };
}

/** A series as contract points. */
export function toPoints(series: Series): MetricPoint[] {
  const count = series.steps.length;
  const points: MetricPoint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const value = series.values[i];
    points[i] = { step: series.steps[i], value: value - value === 0 ? value : toMetricValue(value), timestamp: series.timestamps[i] };
  }
  return points;
}

/** At most `maxPoints` points of a sorted series, as contract points. */
export function downsample(series: Series, maxPoints: number): { points: MetricPoint[]; downsampled: boolean } {
  const picked = downsampleSeries(series, maxPoints);
  return { points: toPoints(picked.series), downsampled: picked.downsampled };
}
