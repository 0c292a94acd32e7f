// In-place optimizer updates over n f32 parameters, following PyTorch's single-tensor implementations
// (torch/optim/sgd.py `_single_tensor_sgd`, adam.py `_single_tensor_adam`, adamw.py `_single_tensor_adamw`).
// Step-dependent scalars (bias corrections, 1 − lr·λ) are computed on the CPU in float64 and passed in.
// Entry points and bindings:
//   sgd, sgd_momentum:  0 params {n, lr, momentum, dampening, weightDecay, nesterov, first, _},
//         1 grad (read), 2 param (read_write), 3 momentum buffer b (read_write; sgd_momentum only)
//         g ← grad + λ·θ;  [b ← first ? g : μ·b + (1 − dampening)·g;  g ← nesterov ? g + μ·b : b;]  θ ← θ − lr·g
//   adam: 0 params {n, stepSize, oneMinusBeta1, beta2, oneMinusBeta2, eps, bc2Sqrt, weightDecay, decay},
//         1 grad (read), 2 param, 3 exp_avg m, 4 exp_avg_sq v (read_write)
//         θ ← decay·θ (AdamW: 1 − lr·λ; Adam: 1);  g ← grad + λ·θ (Adam's L2; λ = 0 for AdamW)
//         m ← m + (1 − β₁)(g − m);  v ← β₂·v + (1 − β₂)·g²;  θ ← θ − stepSize · m / (√v / bc2Sqrt + ε)
//         with stepSize = lr / (1 − β₁ᵗ), bc2Sqrt = √(1 − β₂ᵗ).
// Dispatch: ceil(n / 256) workgroups of 256, folded into (x, y) past 65535.

@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> state1: array<f32>;

fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 256u + lid;
}

struct SgdParams { n: u32, lr: f32, momentum: f32, dampening: f32, weightDecay: f32, nesterov: u32, first: u32, _a: u32 }

@group(0) @binding(0) var<uniform> sp: SgdParams;

@compute @workgroup_size(256)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= sp.n) { return; }
  let theta = param[i];
  var d = grad[i];
  if (sp.weightDecay != 0.0) { d = d + sp.weightDecay * theta; }
  param[i] = theta - sp.lr * d;
}

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= sp.n) { return; }
  let theta = param[i];
  var d = grad[i];
  if (sp.weightDecay != 0.0) { d = d + sp.weightDecay * theta; }
  // buf.mul_(μ).add_(g, alpha = 1 − dampening); the first step clones g (no dampening).
  var b = d;
  if (sp.first == 0u) { b = state1[i] * sp.momentum + (1.0 - sp.dampening) * d; }
  state1[i] = b;
  if (sp.nesterov != 0u) { d = d + sp.momentum * b; } else { d = b; }
  param[i] = theta - sp.lr * d;
}

struct AdamParams {
  n: u32, stepSize: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32, bc2Sqrt: f32,
  weightDecay: f32, decay: f32,
}

@group(0) @binding(0) var<uniform> ap: AdamParams;
@group(0) @binding(4) var<storage, read_write> state2: array<f32>;

@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= ap.n) { return; }
  let theta = param[i] * ap.decay;
  var d = grad[i];
  if (ap.weightDecay != 0.0) { d = d + ap.weightDecay * theta; }
  // exp_avg.lerp_(grad, 1 − β₁) and exp_avg_sq.mul_(β₂).addcmul_(grad, grad, value = 1 − β₂).
  let m = state1[i] + ap.oneMinusBeta1 * (d - state1[i]);
  let v = state2[i] * ap.beta2 + ap.oneMinusBeta2 * d * d;
  state1[i] = m;
  state2[i] = v;
  param[i] = theta - ap.stepSize * m / (sqrt(v) / ap.bc2Sqrt + ap.eps);
}
