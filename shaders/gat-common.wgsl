// Shared by shaders/gat.wgsl and shaders/gat-unfused.wgsl (prepended after shaders/random.wgsl): the
// uniform block both take, the linear work-item index, LeakyReLU, the attention-dropout factor, and the
// layout of GraphCsr's topology buffer [csrPtr (n+1) | csrSrc (nnz) | cscPtr (n+1) | cscDst (nnz) | cscEdge (nnz)].
// src/tensor/ops/gat-params.ts writes the uniforms in this order.

struct Params { n: u32, heads: u32, F: u32, prefix: u32, p: f32, scale: f32, slope: f32, nnz: u32 }

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;

fn item(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn lrelu(t: f32) -> f32 {
  return select(params.slope * t, t, t > 0.0);
}

fn lrelu_grad(t: f32) -> f32 {
  return select(params.slope, 1.0, t > 0.0);
}

/** The dropout factor of edge k (CSR order), head h: scale where kept, 0 where dropped (1 without dropout). */
fn keep(k: u32, h: u32) -> f32 {
  if (params.p <= 0.0) { return 1.0; }
  return select(0.0, params.scale, rng_uniform_keyed(params.prefix, k, h) >= params.p);
}

fn csr_src() -> u32 { return params.n + 1u; }
fn csc_ptr() -> u32 { return params.n + 1u + params.nnz; }
fn csc_dst() -> u32 { return 2u * (params.n + 1u) + params.nnz; }
fn csc_edge() -> u32 { return 2u * (params.n + 1u) + 2u * params.nnz; }
