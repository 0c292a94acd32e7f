// Fused graph attention (GAT), f32, with attention rematerialization: no per-edge tensor is ever stored.
// Prepend shaders/random.wgsl (attention dropout masks are regenerated from (edge id, head)).
// Notation: N nodes, H heads, F features per head, HF = H·F; z is N × HF with head h in columns
// h·F .. h·F + F − 1; s_jh = aSrc_h·z_jh, d_ih = aDst_h·z_ih, e_ij = LeakyReLU(s_j + d_i),
// α_ij = softmax over the in-neighbours j of i, α̃_ij = α_ij·keep(k, h)·scale (k = edge id in CSR order),
// out_i = Σ_j α̃_ij z_j per head. Deterministic: every sum runs over edges in storage order, no atomics.
//
// topo (u32, src/tensor/graph-csr.ts): [csrPtr: N+1 | csrSrc: nnz | cscPtr: N+1 | cscDst: nnz | cscEdge: nnz]
//   (CSR rows are destinations; CSC rows are sources, each entry naming its destination and CSR edge id).
// stats (f32, 4 regions of N·H, saved by the forward): s | d | max_i | denominator_i.
// bstats (f32, 3 regions of N·H, backward only): c_i = Σ_j α_ij dα_ij | dd_i | ds_j.
//
// Every entry point: params {n, heads, F, prefix, p, scale, slope, nnz} at binding 0; threads numbered
// linearly (wid.y·nwg.x + wid.x)·WG + lid (counts past 65535 workgroups folded into y); ceil(count / WG)
// workgroups of WG threads, where count is the number of work items given below.
//   scores     (N·H items: node, head):     1 z (read), 2 aSrc (read, HF), 3 aDst (read, HF), 4 stats (rw: s, d)
//   forward    (N·HF items: dst, head, col): 1 topo, 2 z, 3 stats (rw: reads s, d; writes max, den), 4 out (rw, N × HF)
//   grad_dst   (N·H items: dst, head):      1 topo, 2 z, 3 g (read, N × HF), 4 stats (read), 5 bstats (rw: c, dd)
//   grad_src   (N·H items: src, head):      1 topo, 2 z, 3 g, 4 stats, 5 bstats (rw: reads c, dd; writes ds)
//   grad_z     (N·HF items: src, head, col): 1 topo, 2 g, 3 stats, 4 bstats (read), 5 aSrc, 6 aDst, 7 dz (rw, N × HF)
//   att_partials (chunks·2HF items: chunk, col): 1 z, 2 bstats (read), 3 partial (rw, chunks × 2HF):
//                partial[k, c] = Σ over rows j of chunk k of ds_j,h(c)·z[j, c] (c < HF) or dd_j,h·z[j, c − HF];
//                their column sums are daSrc | daDst. Chunks of att_rows_per_chunk() rows (the same formula as
//                src/tensor/ops/gat-attention.ts), so no N × 2HF product is ever stored.

// item, lrelu, keep: shaders/gat-functions.wgsl; Params and the topology offsets: shaders/gat-common.wgsl (both prepended).
fn nh() -> u32 { return params.n * params.heads; }

// ---- scores ----
@group(0) @binding(1) var<storage, read> sc_z: array<f32>;
@group(0) @binding(2) var<storage, read> sc_asrc: array<f32>;
@group(0) @binding(3) var<storage, read> sc_adst: array<f32>;
@group(0) @binding(4) var<storage, read_write> sc_stats: array<f32>;

@compute @workgroup_size(WG)
fn scores(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= nh()) { return; }
  let node = t / params.heads;
  let h = t - node * params.heads;
  let F = params.F;
  let row = node * params.heads * F + h * F;
  var s = 0.0;
  var d = 0.0;
  for (var c = 0u; c < F; c++) {
    let v = sc_z[row + c];
    s += sc_asrc[h * F + c] * v;
    d += sc_adst[h * F + c] * v;
  }
  sc_stats[t] = s;
  sc_stats[nh() + t] = d;
}

// ---- forward ----
@group(0) @binding(1) var<storage, read> topo: array<u32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read_write> fw_stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> fw_out: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let F = params.F;
  let H = params.heads;
  let HF = H * F;
  if (t >= params.n * HF) { return; }
  let i = t / HF;
  let r = t - i * HF;
  let h = r / F;
  let col = r - h * F;
  let lo = topo[i];
  let hi = topo[i + 1u];
  let di = fw_stats[nh() + i * H + h];
  // One pass with an online softmax (as flash attention): the running max m, denominator and weighted
  // sum are rescaled whenever a larger score arrives, so each edge's score is computed once per thread.
  // Each of the F threads of (i, h) keeps its own copy of m and den (no barrier, no shared memory).
  var m = -3.40282e38;
  var den = 0.0;
  var acc = 0.0;
  for (var k = lo; k < hi; k++) {
    let j = topo[csr_src() + k];
    let e = lrelu(fw_stats[j * H + h] + di);
    let v = keep(k, h) * z[j * HF + h * F + col];
    if (e > m) {
      let rescale = exp(m - e);
      den = den * rescale + 1.0;
      acc = acc * rescale + v;
      m = e;
    } else {
      let w = exp(e - m);
      den += w;
      acc += w * v;
    }
  }
  if (hi > lo) { acc = acc / den; }
  fw_out[t] = acc;
  if (col == 0u) {
    // A node without in-edges saves (0, 0): no edge ever reads them.
    fw_stats[2u * nh() + i * H + h] = select(m, 0.0, hi == lo);
    fw_stats[3u * nh() + i * H + h] = den;
  }
}

// ---- backward ----
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> bstats: array<f32>;

/** α_ij for destination i (head h) from the saved max and denominator; t = s_j + d_i. */
fn alpha_of(t: f32, i: u32, h: u32) -> f32 {
  let ih = i * params.heads + h;
  return exp(lrelu(t) - stats[2u * nh() + ih]) / stats[3u * nh() + ih];
}

/** g_i,h · z_j,h (the gradient of α̃_ij). */
fn g_dot_z(i: u32, j: u32, h: u32) -> f32 {
  let F = params.F;
  let HF = params.heads * F;
  var sum = 0.0;
  for (var c = 0u; c < F; c++) { sum += g[i * HF + h * F + c] * z[j * HF + h * F + c]; }
  return sum;
}

@compute @workgroup_size(WG)
fn grad_dst(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= nh()) { return; }
  let H = params.heads;
  let i = t / H;
  let h = t - i * H;
  let lo = topo[i];
  let hi = topo[i + 1u];
  let di = stats[nh() + t];
  var c = 0.0;
  for (var k = lo; k < hi; k++) {
    let j = topo[csr_src() + k];
    c += alpha_of(stats[j * H + h] + di, i, h) * g_dot_z(i, j, h) * keep(k, h);
  }
  // Two passes (dots recomputed) rather than Σα·dα·l' − c·Σα·l', which cancels.
  var dd = 0.0;
  for (var k = lo; k < hi; k++) {
    let j = topo[csr_src() + k];
    let s = stats[j * H + h] + di;
    let a = alpha_of(s, i, h);
    dd += a * (g_dot_z(i, j, h) * keep(k, h) - c) * lrelu_grad(s);
  }
  bstats[t] = c;
  bstats[nh() + t] = dd;
}

@compute @workgroup_size(WG)
fn grad_src(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= nh()) { return; }
  let H = params.heads;
  let j = t / H;
  let h = t - j * H;
  let lo = topo[csc_ptr() + j];
  let hi = topo[csc_ptr() + j + 1u];
  let sj = stats[t];
  var ds = 0.0;
  for (var q = lo; q < hi; q++) {
    let i = topo[csc_dst() + q];
    let k = topo[csc_edge() + q];
    let s = sj + stats[nh() + i * H + h];
    let a = alpha_of(s, i, h);
    ds += a * (g_dot_z(i, j, h) * keep(k, h) - bstats[i * H + h]) * lrelu_grad(s);
  }
  bstats[2u * nh() + t] = ds;
}

@group(0) @binding(2) var<storage, read> gz_g: array<f32>;
@group(0) @binding(3) var<storage, read> gz_stats: array<f32>;
@group(0) @binding(4) var<storage, read> gz_bstats: array<f32>;
@group(0) @binding(5) var<storage, read> gz_asrc: array<f32>;
@group(0) @binding(6) var<storage, read> gz_adst: array<f32>;
@group(0) @binding(7) var<storage, read_write> gz_dz: array<f32>;

@compute @workgroup_size(WG)
fn grad_z(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let F = params.F;
  let H = params.heads;
  let HF = H * F;
  if (t >= params.n * HF) { return; }
  let j = t / HF;
  let r = t - j * HF;
  let h = r / F;
  let col = r - h * F;
  let lo = topo[csc_ptr() + j];
  let hi = topo[csc_ptr() + j + 1u];
  let sj = gz_stats[j * H + h];
  var acc = 0.0;
  for (var q = lo; q < hi; q++) {
    let i = topo[csc_dst() + q];
    let k = topo[csc_edge() + q];
    let ih = i * H + h;
    let alpha = exp(lrelu(sj + gz_stats[nh() + ih]) - gz_stats[2u * nh() + ih]) / gz_stats[3u * nh() + ih];
    acc += alpha * keep(k, h) * gz_g[i * HF + r];
  }
  // Through the scores: s_j = aSrc·z_j and d_j = aDst·z_j.
  acc += gz_bstats[2u * nh() + j * H + h] * gz_asrc[r] + gz_bstats[nh() + j * H + h] * gz_adst[r];
  gz_dz[t] = acc;
}

@group(0) @binding(1) var<storage, read> ap_z: array<f32>;
@group(0) @binding(2) var<storage, read> ap_bstats: array<f32>;
@group(0) @binding(3) var<storage, read_write> ap_partial: array<f32>;

/** At most 1024 chunks of at least 16 rows (mirrors attRowsPerChunk in gat-attention.ts). */
fn att_rows_per_chunk() -> u32 {
  return max(16u, (params.n + 1023u) / 1024u);
}

@compute @workgroup_size(WG)
fn att_partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let HF = H * params.F;
  let rows = att_rows_per_chunk();
  let chunks = (params.n + rows - 1u) / rows;
  if (t >= chunks * 2u * HF) { return; }
  let k = t / (2u * HF);
  let c = t - k * 2u * HF;
  let dst_half = c >= HF;
  let r = select(c, c - HF, dst_half);
  let h = r / params.F;
  // ds (region 2) for the aSrc half, dd (region 1) for the aDst half.
  let region = select(2u, 1u, dst_half) * nh();
  var sum = 0.0;
  for (var j = k * rows; j < min((k + 1u) * rows, params.n); j++) {
    sum += ap_bstats[region + j * H + h] * ap_z[j * HF + r];
  }
  ap_partial[t] = sum;
}
