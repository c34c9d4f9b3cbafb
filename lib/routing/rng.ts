/**
 * Seeded pseudo-random numbers for the simulator and the benchmark scenarios. Pure and
 * deterministic: the same seed gives the same sequence on every platform (32-bit integer
 * arithmetic only, no Math.random).
 */

/** A seeded generator: `next()` returns a float in [0, 1). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in (0, 1]: safe for `Math.log`. */
  nextOpen(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Exponential with the given rate (mean 1/rate). */
  exponential(rate: number): number;
  /** Standard normal (Box–Muller, one value per call). */
  normal(): number;
}

/** sfc32 seeded through splitmix32: fast, 128-bit state, passes PractRand to large sizes. */
export function createRng(seed: number): Rng {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix() | 1;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  const next = (): number => u32() / 4294967296;
  const nextOpen = (): number => (u32() + 1) / 4294967296;
  return {
    next,
    nextOpen,
    int: (n: number) => Math.floor(next() * n),
    exponential: (rate: number) => -Math.log(nextOpen()) / rate,
    normal: () => Math.sqrt(-2 * Math.log(nextOpen())) * Math.cos(2 * Math.PI * next()),
  };
}
