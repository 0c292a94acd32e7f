// Temporal graph attention (TGN's embedding module, one layer, H heads), forward and backward, f32.
// B targets, k sampled neighbours per target, head width d (HD = H·d columns, head h in [h·d, (h+1)·d)):
//   q [B × HD], kk and v [B × k × HD] (neighbour j of target b at row b·k + j), mask [B × k] (u32;
//   nonzero = valid; with MASK_F32 the words are f32 and nonzero means valid).
//   s_j = ⟨q_bh, k_bjh⟩·scale (scale = 1/√d) over valid j,  p = softmax(s),  out_bh = Σ_j p_j·v_bjh.
//   A target with no valid neighbour gets out = 0 (and zero gradients), never NaN.
// One thread per (target, head): every sum runs over j (or c) in ascending order, no atomics, and the
// thread owns all it writes. Nothing is saved for the backward: it recomputes s and p from q, kk and
// mask (scores three times, dp twice: ~5·k·d multiply-adds per thread, small next to the matmuls that
// make q, kk and v, and no [B, H, k] tensor kept from forward to backward).
// Every entry point: params {B, H, d, k, scale, _, _, _} at binding 0; B·H items, thread t = b·H + h,
// numbered (wid.y·nwg.x + wid.x)·64 + lid; ceil(B·H / 64) workgroups of 64 (folded into y past 65535).
//   forward:   1 q, 2 kk, 3 v, 4 mask, 5 out (rw, B × HD)
//   backward:  1 q, 2 kk, 3 v, 4 mask, 5 g (B × HD), 6 dq (rw, B × HD), 7 dk (rw, B × k × HD), 8 dv (rw, like dk)
//   With dp_j = ⟨g_bh, v_bjh⟩ and D = Σ_j p_j·dp_j:  dv_bjh = p_j·g_bh,  ds_j = p_j·(dp_j − D),
//   dq_bh = scale·Σ_j ds_j·k_bjh,  dk_bjh = scale·ds_j·q_bh.

struct Params { B: u32, H: u32, d: u32, k: u32, scale: f32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kk: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;

fn item(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 64u + lid;
}

fn valid(b: u32, j: u32) -> bool {
//#if MASK_F32
  return bitcast<f32>(mask[b * p.k + j]) != 0.0;
//#else
  return mask[b * p.k + j] != 0u;
//#endif
}

/** Offset of head h of neighbour j of target b in kk and v. */
fn kv_row(b: u32, j: u32, h: u32) -> u32 {
  return (b * p.k + j) * p.H * p.d + h * p.d;
}

/** s_j for valid j. */
fn score(b: u32, h: u32, j: u32) -> f32 {
  let qo = b * p.H * p.d + h * p.d;
  let ko = kv_row(b, j, h);
  var acc = 0.0;
  for (var c = 0u; c < p.d; c++) { acc += q[qo + c] * kk[ko + c]; }
  return acc * p.scale;
}

/** Softmax statistics over the valid neighbours: max and Σ exp(s − max); sum 0 when none is valid. */
struct Stats { mx: f32, sum: f32 }

fn stats(b: u32, h: u32) -> Stats {
  // Online (running max) so the dot products are computed once.
  var mx = 0.0;
  var sum = 0.0;
  var seen = false;
  for (var j = 0u; j < p.k; j++) {
    if (!valid(b, j)) { continue; }
    let s = score(b, h, j);
    if (!seen) {
      mx = s;
      sum = 1.0;
      seen = true;
    } else if (s > mx) {
      sum = sum * exp(mx - s) + 1.0;
      mx = s;
    } else {
      sum += exp(s - mx);
    }
  }
  return Stats(mx, sum);
}

/** p_j (0 for masked j; a valid j means st.sum ≥ 1, so no division by zero). */
fn weight(b: u32, h: u32, j: u32, st: Stats) -> f32 {
  if (!valid(b, j)) { return 0.0; }
  return exp(score(b, h, j) - st.mx) / st.sum;
}

@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= p.B * p.H) { return; }
  let b = t / p.H;
  let h = t - b * p.H;
  let oo = b * p.H * p.d + h * p.d;
  for (var c = 0u; c < p.d; c++) { out[oo + c] = 0.0; }
  let st = stats(b, h);
  if (st.sum == 0.0) { return; }
  for (var j = 0u; j < p.k; j++) {
    if (!valid(b, j)) { continue; }
    let w = weight(b, h, j, st);
    let vo = kv_row(b, j, h);
    for (var c = 0u; c < p.d; c++) { out[oo + c] += w * v[vo + c]; }
  }
}

@group(0) @binding(5) var<storage, read> g: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

/** dp_j = ⟨g_bh, v_bjh⟩. */
fn grad_weight(b: u32, h: u32, j: u32) -> f32 {
  let go = b * p.H * p.d + h * p.d;
  let vo = kv_row(b, j, h);
  var acc = 0.0;
  for (var c = 0u; c < p.d; c++) { acc += g[go + c] * v[vo + c]; }
  return acc;
}

@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= p.B * p.H) { return; }
  let b = t / p.H;
  let h = t - b * p.H;
  let qo = b * p.H * p.d + h * p.d;
  let st = stats(b, h);
  // Pass 1: dv (final) and D = Σ_j p_j·dp_j.
  var D = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let w = weight(b, h, j, st);
    let vo = kv_row(b, j, h);
    for (var c = 0u; c < p.d; c++) { dv[vo + c] = w * g[qo + c]; }
    if (w != 0.0) { D += w * grad_weight(b, h, j); }
  }
  // Pass 2: ds_j, then dk (final) and dq accumulated in j order.
  for (var c = 0u; c < p.d; c++) { dq[qo + c] = 0.0; }
  for (var j = 0u; j < p.k; j++) {
    let ko = kv_row(b, j, h);
    let w = weight(b, h, j, st);
    var ds = 0.0;
    if (w != 0.0) { ds = w * (grad_weight(b, h, j) - D) * p.scale; }
    for (var c = 0u; c < p.d; c++) {
      dk[ko + c] = ds * q[qo + c];
      dq[qo + c] += ds * kk[ko + c];
    }
  }
}
