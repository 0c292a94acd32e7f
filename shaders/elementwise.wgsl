// Elementwise arithmetic on f32 arrays of length n (n ≤ 2³²; linear ids fold over x and y).
// Entry points and bindings (0 is always params {n, cols, alpha, _}):
//   axpy:     1 x (read), 2 y (read_write)            y += alpha·x
//   add:      1 a, 2 b (read), 3 out (read_write)      out = a + alpha·b
//   scale:    1 x (read), 2 out (read_write)           out = alpha·x
//   bias_add: 1 x, 2 bias[cols] (read), 3 out         out[r, c] = x[r, c] + bias[c]
//   fill:     1 out (read_write)                       out = alpha
// Dispatch: see shaders/grid.wgsl (prepended): ceil(n / 1024) workgroups of 256.

struct Params { n: u32, cols: u32, alpha: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;


@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> io2: array<f32>;

@compute @workgroup_size(256)
fn axpy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { io2[i] += p.alpha * in1[i]; }
  }
}

@compute @workgroup_size(256)
fn scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { io2[i] = p.alpha * in1[i]; }
  }
}

@group(0) @binding(1) var<storage, read_write> out1: array<f32>;

@compute @workgroup_size(256)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { out1[i] = p.alpha; }
  }
}

@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;

@compute @workgroup_size(256)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { out3[i] = in1[i] + p.alpha * in2[i]; }
  }
}

@compute @workgroup_size(256)
fn bias_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { out3[i] = in1[i] + in2[i % p.cols]; }
  }
}
