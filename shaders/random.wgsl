// Counter-based random numbers, shared by every kernel that needs them (prepended as a snippet).
// The value for (seed, stream, step, id, column) is a pure function of those keys, so a mask is
// regenerated in the backward pass instead of stored, and a node gets the same numbers whichever
// worker holds it. Mirrors src/tensor/random.ts bit for bit (tested).

fn rng_mix(v: u32) -> u32 {
  // lowbias32 (Chris Wellons): a fast integer hash with good avalanche.
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn rng_u32(seed: u32, stream: u32, step: u32, id: u32, col: u32) -> u32 {
  var h = rng_mix(seed + 0x9e3779b9u);
  h = rng_mix(h ^ stream);
  h = rng_mix(h ^ step);
  h = rng_mix(h ^ id);
  return rng_mix(h ^ col);
}

/** The same value from a precomputed prefix = rng_prefix(seed, stream, step) (computed on the CPU by
 * src/tensor/random.ts rngPrefix): kernels that draw many numbers per dispatch hash only (id, col). */
fn rng_u32_keyed(prefix: u32, id: u32, col: u32) -> u32 {
  return rng_mix(rng_mix(prefix ^ id) ^ col);
}

fn rng_uniform_keyed(prefix: u32, id: u32, col: u32) -> f32 {
  return f32(rng_u32_keyed(prefix, id, col) >> 8u) * (1.0 / 16777216.0);
}

/** Uniform in [0, 1) with 24 random bits. */
fn rng_uniform(seed: u32, stream: u32, step: u32, id: u32, col: u32) -> f32 {
  return f32(rng_u32(seed, stream, step, id, col) >> 8u) * (1.0 / 16777216.0);
}
