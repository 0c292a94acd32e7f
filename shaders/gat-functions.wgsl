// Attention helpers shared by every GAT shader (prepended after shaders/random.wgsl, beside the shader's
// own Params): the linear work-item index, LeakyReLU and its slope, and the attention-dropout factor.
// Needs a uniform `params` with fields prefix, p, scale and slope (module-scope order does not matter in
// WGSL, so each shader declares its own Params after this text).

override WG: u32 = 64u;

fn item(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn lrelu(t: f32) -> f32 {
  return select(params.slope * t, t, t > 0.0);
}

fn lrelu_grad(t: f32) -> f32 {
  return select(params.slope, 1.0, t > 0.0);
}

/** The dropout factor of edge k (global CSR order), head h: scale where kept, 0 where dropped (1 without dropout). */
fn keep(k: u32, h: u32) -> f32 {
  if (params.p <= 0.0) { return 1.0; }
  return select(0.0, params.scale, rng_uniform_keyed(params.prefix, k, h) >= params.p);
}
