// Matrix product C = op(A) · op(B)  (optionally C += ...), f32. Two entry points:
//   main:   tiles of op(A) and op(B) staged in workgroup memory (for GPUs, where it saves bandwidth);
//   direct: the same 4×4 register blocks read straight from storage, no workgroup memory, no
//           barriers — faster on CPU-based software adapters (lavapipe, SwiftShader), whose "shared
//           memory" is ordinary cache and whose barriers split the shader into resumable pieces
//           (measured 2–3× faster there). Same dispatch shape and summation order over k.
//   op(A) is M×K: A stored M×K, or K×M when TRANS_A (so the backward's Aᵀ·G needs no transpose copy).
//   op(B) is K×N: B stored K×N, or N×K when TRANS_B.
// Bindings: 0 params {M, N, K, accumulate}, 1 A (read), 2 B (read), 3 C (read_write, M×N).
// Dispatch: (ceil(N / (4·WG_X)), ceil(M / (4·WG_Y))) workgroups of WG_X × WG_Y threads; each thread
// computes a 4×4 block held as four vec4 rows. Tiles of op(A) and op(B) are staged in workgroup
// memory, BK columns of K at a time. The tile shape is chosen per call (wide 64×64, or 16 columns ×
// 256 rows for the narrow outputs of GNN layers); shapes are uniforms, so one pipeline serves all sizes.

struct Params { M: u32, N: u32, K: u32, accumulate: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
const BK: u32 = 16u;

// As[k][m] and Bs[k][n], each row of the tile packed as vec4s along m or n.
var<workgroup> As: array<vec4<f32>, BK * WG_Y>;
var<workgroup> Bs: array<vec4<f32>, BK * WG_X>;

fn load_a(m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return A[k * p.M + m]; }
  return A[m * p.K + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return B[n * p.K + k]; }
  return B[k * p.N + n];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let threads = WG_X * WG_Y;
  let row0 = wid.y * WG_Y * 4u;
  let col0 = wid.x * WG_X * 4u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Stage op(A)[row0 .. row0+4·WG_Y, k0 .. k0+BK): one vec4 (4 consecutive rows) per slot.
    for (var s = li; s < BK * WG_Y; s += threads) {
      var kk: u32; var mq: u32;
      if (TRANS_A) { kk = s / WG_Y; mq = s % WG_Y; } else { mq = s / BK; kk = s % BK; }
      let m = row0 + mq * 4u;
      let k = k0 + kk;
      As[kk * WG_Y + mq] = vec4<f32>(load_a(m, k), load_a(m + 1u, k), load_a(m + 2u, k), load_a(m + 3u, k));
    }
    for (var s = li; s < BK * WG_X; s += threads) {
      var kk: u32; var nq: u32;
      if (TRANS_B) { nq = s / BK; kk = s % BK; } else { kk = s / WG_X; nq = s % WG_X; }
      let n = col0 + nq * 4u;
      let k = k0 + kk;
      Bs[kk * WG_X + nq] = vec4<f32>(load_b(k, n), load_b(k, n + 1u), load_b(k, n + 2u), load_b(k, n + 3u));
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let a = As[kk * WG_Y + lid.y];
      let b = Bs[kk * WG_X + lid.x];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  // Thread (x, y) owns rows row0 + 4y .. +4 and columns col0 + 4x .. +4.
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + lid.y * 4u + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = col0 + lid.x * 4u + j;
      if (n >= p.N) { break; }
      let index = m * p.N + n;
      var v = acc[i][j];
      if (p.accumulate != 0u) { v += C[index]; }
      C[index] = v;
    }
  }
}

// Clamped loads: rows/columns past the edge read a valid element whose result is never stored,
// so the inner loop has no branches.
fn load_a_clamped(m: u32, k: u32) -> f32 {
  let mm = min(m, p.M - 1u);
  if (TRANS_A) { return A[k * p.M + mm]; }
  return A[mm * p.K + k];
}

fn load_b4_clamped(k: u32, n: u32) -> vec4<f32> {
  let last = p.N - 1u;
  let n0 = min(n, last); let n1 = min(n + 1u, last); let n2 = min(n + 2u, last); let n3 = min(n + 3u, last);
  if (TRANS_B) { return vec4<f32>(B[n0 * p.K + k], B[n1 * p.K + k], B[n2 * p.K + k], B[n3 * p.K + k]); }
  let row = k * p.N;
  return vec4<f32>(B[row + n0], B[row + n1], B[row + n2], B[row + n3]);
}

@compute @workgroup_size(WG_X, WG_Y)
fn direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = (wid.y * WG_Y + lid.y) * 4u;
  let n0 = (wid.x * WG_X + lid.x) * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < p.K; k++) {
    let b = load_b4_clamped(k, n0);
    acc[0] += load_a_clamped(m0, k) * b;
    acc[1] += load_a_clamped(m0 + 1u, k) * b;
    acc[2] += load_a_clamped(m0 + 2u, k) * b;
    acc[3] += load_a_clamped(m0 + 3u, k) * b;
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n >= p.N) { break; }
      let index = m * p.N + n;
      var v = acc[i][j];
      if (p.accumulate != 0u) { v += C[index]; }
      C[index] = v;
    }
  }
}

@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C4: array<vec4<f32>>;

@compute @workgroup_size(WG_X, WG_Y)
fn direct_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let n4 = p.N / 4u;
  let m0 = (wid.y * WG_Y + lid.y) * 4u;
  let q = wid.x * WG_X + lid.x;
  if (m0 >= p.M || q >= n4) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < p.K; k++) {
    let b = B4[k * n4 + q];
    acc[0] += load_a_clamped(m0, k) * b;
    acc[1] += load_a_clamped(m0 + 1u, k) * b;
    acc[2] += load_a_clamped(m0 + 2u, k) * b;
    acc[3] += load_a_clamped(m0 + 3u, k) * b;
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    var v = acc[i];
    if (p.accumulate != 0u) { v += C4[m * n4 + q]; }
    C4[m * n4 + q] = v;
  }
}
