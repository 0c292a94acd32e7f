// Fused GRU cell gates (PyTorch GRUCell convention), forward and backward, f32. Prepend shaders/grid.wgsl.
// n rows, d hidden columns; gi = x·W_ihᵀ + b_ih and gh = h·W_hhᵀ + b_hh are [n, 3d] with gate blocks
// r | z | n (columns [0, d), [d, 2d), [2d, 3d)), computed outside by matmul:
//   r = σ(gi_r + gh_r),  z = σ(gi_z + gh_z),  c = tanh(gi_n + r·gh_n),  h' = (1 − z)·c + z·h.
// Every entry point: params {n, d, _, _} at binding 0, one thread per (row, column), n·d items.
//   forward:   1 gi (n × 3d), 2 gh (n × 3d), 3 h (n × d), 4 out (rw, n × d)      out = h'
//   backward:  1 gi, 2 gh, 3 h, 4 g (n × d), 5 dgi (rw, n × 3d), 6 dgh (rw, n × 3d), 7 dh (rw, n × d)
// The backward recomputes r, z, c from gi, gh, h (which autograd keeps alive anyway) instead of saving
// them: no extra [n, 3d] buffer per step, for three transcendental functions per element.
// With a = g·(1 − z)·(1 − c²) (the gradient at c's pre-activation) and e = r·(1 − r)·a·gh_n:
//   dgi = [e, g·(h − c)·z(1 − z), a],  dgh = [e, g·(h − c)·z(1 − z), a·r],  dh = g·z.
// Dispatch: grid.wgsl's ceil(n·d / 1024) workgroups of 256.

struct Params { n: u32, d: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gi: array<f32>;
@group(0) @binding(2) var<storage, read> gh: array<f32>;
@group(0) @binding(3) var<storage, read> h: array<f32>;

fn sigmoid(x: f32) -> f32 {
  // exp(−x) overflows to +inf for x < −88, giving exactly 0: no NaN.
  return 1.0 / (1.0 + exp(-x));
}

// tanh saturates to ±1 in f32 beyond |x| ≈ 9; clamping keeps implementations that evaluate it through
// exp(2x) away from inf/inf.
fn tanh_safe(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

struct Gates { r: f32, z: f32, c: f32, ghn: f32 }

fn gates(row: u32, col: u32) -> Gates {
  let base = row * 3u * p.d + col;
  let r = sigmoid(gi[base] + gh[base]);
  let z = sigmoid(gi[base + p.d] + gh[base + p.d]);
  let ghn = gh[base + 2u * p.d];
  let c = tanh_safe(gi[base + 2u * p.d] + r * ghn);
  return Gates(r, z, c, ghn);
}

@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let e = grid_index(wid, nwg, lid, j);
    if (e >= p.n * p.d) { return; }
    let row = e / p.d;
    let s = gates(row, e - row * p.d);
    out[e] = (1.0 - s.z) * s.c + s.z * h[e];
  }
}

@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgi: array<f32>;
@group(0) @binding(6) var<storage, read_write> dgh: array<f32>;
@group(0) @binding(7) var<storage, read_write> dh: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let e = grid_index(wid, nwg, lid, j);
    if (e >= p.n * p.d) { return; }
    let row = e / p.d;
    let col = e - row * p.d;
    let s = gates(row, col);
    let ge = g[e];
    let a = ge * (1.0 - s.z) * (1.0 - s.c * s.c);
    let dzPre = ge * (h[e] - s.c) * s.z * (1.0 - s.z);
    let drPre = a * s.ghn * s.r * (1.0 - s.r);
    let base = row * 3u * p.d + col;
    dgi[base] = drPre;
    dgh[base] = drPre;
    dgi[base + p.d] = dzPre;
    dgh[base + p.d] = dzPre;
    dgi[base + 2u * p.d] = a;
    dgh[base + 2u * p.d] = a * s.r;
    dh[e] = ge * s.z;
  }
}
