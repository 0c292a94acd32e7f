// Row gather, scatter-add and scatter, f32: how a SAR worker picks the rows a peer needs before sending
// them and adds the gradient rows a peer sends back into its own, and how a hybrid pipeline stage writes
// the rows another worker of the stage sent into its historical buffer. Prepend shaders/grid.wgsl.
// Bindings: 0 params {n, cols, _, _} with n = idx length × cols, 1 idx (read, u32 row ids),
//   gather:      2 x (read, rows × cols), 3 out (read_write, n): out[i, c] = x[idx[i], c]
//   scatter_add: 2 src (read, n), 3 out (read_write, rows × cols): out[idx[i], c] += src[i, c]
//   scatter:     2 src (read, n), 3 out (read_write, rows × cols): out[idx[i], c] = src[i, c]
// scatter_add and scatter need idx without repeats (each target row written by one thread per column): no atomics,
// and the result does not depend on thread order.
// Dispatch: ceil(n / 1024) workgroups of 256 (shaders/grid.wgsl).

struct Params { n: u32, cols: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> b: array<f32>;

@compute @workgroup_size(256)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= params.n) { return; }
    let r = i / params.cols;
    let c = i - r * params.cols;
    b[i] = a[idx[r] * params.cols + c];
  }
}

@compute @workgroup_size(256)
fn scatter_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= params.n) { return; }
    let r = i / params.cols;
    let c = i - r * params.cols;
    let o = idx[r] * params.cols + c;
    b[o] = b[o] + a[i];
  }
}

@compute @workgroup_size(256)
fn scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= params.n) { return; }
    let r = i / params.cols;
    let c = i - r * params.cols;
    b[idx[r] * params.cols + c] = a[i];
  }
}
