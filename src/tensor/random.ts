// The CPU twin of shaders/random.wgsl: same keys, same bits. Used for weight initialisation and
// negative sampling on the CPU, and to check the GPU's dropout masks.

function mix(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The part of the hash chain shared by every number of one (seed, stream, step): kernels get it
 * as a uniform and hash only (id, col) per element (`rng_uniform_keyed`), with the same result. */
export function rngPrefix(seed: number, stream: number, step: number): number {
  return mix(mix(mix((seed + 0x9e3779b9) >>> 0) ^ stream) ^ step);
}

export function rngU32(seed: number, stream: number, step: number, id: number, col: number): number {
  return mix(mix(rngPrefix(seed, stream, step) ^ id) ^ col);
}

/** Uniform in [0, 1) with 24 random bits, exactly as the WGSL `rng_uniform`. */
export function rngUniform(seed: number, stream: number, step: number, id: number, col: number): number {
  return (rngU32(seed, stream, step, id, col) >>> 8) / 16777216;
}

/** Streams name independent uses of one seed; layers add their index to a base. */
export const RNG_STREAM = {
  init: 0x1000,
  dropout: 0x2000,
  attentionDropout: 0x3000,
  negatives: 0x4000,
  shuffle: 0x5000,
} as const;
