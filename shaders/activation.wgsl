// Activations and their backward passes, elementwise over n f32 values (n ≤ 2³²).
// Entry points and bindings (0 is always params {n, alpha, _, _}; alpha is ELU's α or the leaky slope):
//   relu, elu, leaky_relu:  1 x (read), 2 y (read_write)                y = f(x)
//   relu_backward:          1 y (forward output), 2 g (read), 3 gx       gx = g·[y > 0]
//   elu_backward:           1 y (forward output), 2 g (read), 3 gx       gx = g·(y > 0 ? 1 : y + α)
//   leaky_relu_backward:    1 x (forward input),  2 g (read), 3 gx       gx = g·(x > 0 ? 1 : slope)
// ReLU and ELU (α ≥ 0) recover the sign of x from y, as PyTorch does, so their backward needs only the
// output; leaky ReLU keeps the input (its slope may be any sign).
// Dispatch: see shaders/grid.wgsl (prepended): ceil(n / 1024) workgroups of 256.

struct Params { n: u32, alpha: f32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;


// exp(x) − 1 without the cancellation of exp near 0 (WGSL has no expm1): a Taylor polynomial below
// |x| < 1/32 (next term x⁶/720 < 2e-12, far under f32's ulp), exp(x) − 1 elsewhere (|result| > 0.03).
fn expm1(x: f32) -> f32 {
  if (abs(x) < 0.03125) {
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0)))));
  }
  return exp(x) - 1.0;
}

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn relu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { y[i] = max(x[i], 0.0); }
  }
}

@compute @workgroup_size(256)
fn elu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) {
      let v = x[i];
      y[i] = select(p.alpha * expm1(v), v, v > 0.0);
    }
  }
}

@compute @workgroup_size(256)
fn leaky_relu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) {
      let v = x[i];
      y[i] = select(p.alpha * v, v, v > 0.0);
    }
  }
}

// Backward: binding 1 is the saved forward tensor (output or input, see above).
@group(0) @binding(1) var<storage, read> saved: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(256)
fn relu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { gx[i] = select(0.0, g[i], saved[i] > 0.0); }
  }
}

@compute @workgroup_size(256)
fn elu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) {
      let out = saved[i];
      // For x ≤ 0, d/dx α(eˣ − 1) = α·eˣ = y + α.
      gx[i] = g[i] * select(out + p.alpha, 1.0, out > 0.0);
    }
  }
}

@compute @workgroup_size(256)
fn leaky_relu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i < p.n) { gx[i] = g[i] * select(p.alpha, 1.0, saved[i] > 0.0); }
  }
}
