// Shared by shaders/gat.wgsl and shaders/gat-unfused.wgsl (prepended after shaders/random.wgsl and
// shaders/gat-functions.wgsl): the uniform block both take and the layout of GraphCsr's topology buffer
// [csrPtr (n+1) | csrSrc (nnz) | cscPtr (n+1) | cscDst (nnz) | cscEdge (nnz)].
// src/tensor/ops/gat-params.ts writes the uniforms in this order.

struct Params { n: u32, heads: u32, F: u32, prefix: u32, p: f32, scale: f32, slope: f32, nnz: u32 }

@group(0) @binding(0) var<uniform> params: Params;

fn csr_src() -> u32 { return params.n + 1u; }
fn csc_ptr() -> u32 { return params.n + 1u + params.nnz; }
fn csc_dst() -> u32 { return 2u * (params.n + 1u) + params.nnz; }
fn csc_edge() -> u32 { return 2u * (params.n + 1u) + 2u * params.nnz; }
