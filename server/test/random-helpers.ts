/** Seeded random values for tests: every run sees the same ones. */

/** mulberry32: a small seeded generator of uniform values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal values (Box–Muller). */
export function normalValues(random: () => number, size: number, mean = 0, std = 1): Float64Array {
  const values = new Float64Array(size);
  for (let index = 0; index < size; index++) {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    values[index] = mean + std * radius * Math.cos(2 * Math.PI * random());
  }
  return values;
}
