// Inverted dropout over a rows×cols f32 matrix (n = rows·cols ≤ 2³²). Prepend shaders/random.wgsl.
// Entry point main. Bindings: 0 params {n, cols, prefix, _, _, rowOffset, p, scale} where
//   prefix = rng_prefix(seed, stream, step) is computed on the CPU (random.ts rngPrefix),
//   1 x (read), 2 out (read_write).
//   out[r, c] = x[r, c] · scale  if rng_uniform(seed, stream, step, rowOffset + r, c) ≥ p,  else 0.
// A zero input gives zero whatever the mask, so its random number is not drawn (sparse inputs such
// as bag-of-words features are mostly zeros; the result is identical).
// The mask is a pure function of the key and the global row id, so it is never stored: the backward is
// this same kernel applied to the upstream gradient, and rows split across workers (rowOffset) get the
// masks they would get on one worker.
// ROW_IDS: binding 3 rowIds (read, u32 per row) gives each local row's global id instead of
//   rowOffset + row (a SAR worker's rows are scattered over the global id range).
// Dispatch: see shaders/grid.wgsl (prepended): ceil(n / 1024) workgroups of 256.

struct Params { n: u32, cols: u32, prefix: u32, _pad0: u32, _pad1: u32, rowOffset: u32, p: f32, scale: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
//#if ROW_IDS
@group(0) @binding(3) var<storage, read> rowIds: array<u32>;
//#endif

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= params.n) { return; }
    let v = x[i];
    if (v == 0.0) {
      out[i] = 0.0;
      continue;
    }
    let row = i / params.cols;
    let col = i - row * params.cols;
//#if ROW_IDS
    let id = rowIds[row];
//#else
    let id = params.rowOffset + row;
//#endif
    let u = rng_uniform_keyed(params.prefix, id, col);
    out[i] = select(0.0, v * params.scale, u >= params.p);
  }
}
