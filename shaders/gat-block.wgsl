// Graph attention (GAT) one block of the adjacency at a time, f32: what a SAR worker runs when the
// in-neighbours of its rows live on several workers (src/engines/sar/partitioned-attention.ts). The
// softmax over a row's in-neighbours is taken online across blocks (as flash attention does across
// tiles): a running max and denominator per (row, head) are rescaled whenever a block raises the max, so
// no block's scores need to be kept. The backward recomputes α from the saved max and denominator.
// Prepend shaders/random.wgsl and shaders/gat-functions.wgsl (item, lrelu, keep; attention dropout masks
// are regenerated from (global edge id, head)).
//
// Notation as shaders/gat.wgsl: H heads, F features per head, HF = H·F; z rows are HF wide with head h
// in columns h·F .. h·F + F − 1; s_j = aSrc_h·z_j, d_i = aDst_h·z_i, e_ij = LeakyReLU(s_j + d_i),
// α_ij = exp(e_ij − max_i) / den_i, α̃_ij = α_ij·keep(k, h)·scale with k the edge's GLOBAL CSR id.
// A block: n destination rows (this worker's) × m source rows (its own rows or one peer's halo).
// Deterministic: every sum runs over a block's entries in storage order; no atomics.
//
// topo (u32, src/tensor/ops/gat-block.ts GatBlockTopology):
//   [rowPtr: n+1 | colIdx: nnz | edge: nnz | cscPtr: m+1 | cscRow: nnz | cscEdge: nnz]
//   (CSR rows are destinations, columns index the block's source rows; the CSC lists per source row its
//   destinations; edge / cscEdge are global edge ids, the dropout keys).
// sd (f32, per set of rows): s | d, rows·H each.
// stats (f32, the n destination rows): max | den | aux, n·H each; aux holds the forward's rescale factor
//   exp(max_old − max_new) between block_stats and block_out, and c_i = g_i·out_i in the backward.
//
// Every entry point: params {n, m, heads, F, prefix, nnz, flag, _, p, scale, slope, _} at binding 0;
// threads numbered linearly (wid.y·nwg.x + wid.x)·WG + lid (past 65535 workgroups folded into y);
// ceil(items / WG) workgroups of WG threads for the item counts below.
//   scores      (n·H: row, head; n = rows of z):  1 z (read), 2 aSrc (HF), 3 aDst (HF), 4 sd (rw: s, d)
//   block_stats (n·H: dst, head):   1 topo, 2 src sd (read), 3 dst sd (read), 4 stats (rw: max, den, aux)
//               flag = 1: first block (previous max −∞, den 0)
//   block_out   (n·HF: dst, head, col): 1 topo, 2 z src (read, m × HF), 3 src sd, 4 dst sd, 5 stats (read),
//               6 acc (rw, n × HF): acc = acc·aux + Σ_j exp(e_ij − max_i)·keep·z_j (flag = 1: acc = Σ …)
//   finish      (n·HF): 1 stats (read), 2 acc (rw): acc /= den (0 for a row without in-edges)
//   row_dots    (n·H):  1 g (read, n × HF), 2 out (read, n × HF), 3 stats (rw: aux = c = g·out),
//               4 dd (rw, n·H: set to 0)
//   grad_dst    (n·H):  1 topo, 2 z src, 3 g, 4 src sd, 5 dst sd, 6 stats (read), 7 dd (rw):
//               dd_i += Σ_j α_ij(dα_ij − c_i)·LeakyReLU'(s_j + d_i), dα_ij = (g_i·z_j)·keep·scale
//   grad_src    (m·H: src, head): same bindings, 7 ds (rw, m·H): ds_j = Σ_i α_ij(dα_ij − c_i)·LeakyReLU'
//   grad_z      (m·HF): 1 topo, 2 g, 3 src sd, 4 dst sd, 5 stats (read), 6 dz (rw, m × HF):
//               dz_j = Σ_i α̃_ij g_i (flag = 1: added to dz_j)
//   add_scaled  (n·HF; n = rows): 1 w (read, rows·H), 2 a (read, HF), 3 out (rw, rows × HF):
//               out[j, c] += w[j, head(c)]·a[c]
//   weighted_partials (chunks·HF; n = rows, m = rows per chunk): 1 w (rows·H), 2 z (rows × HF),
//               3 partial (rw, chunks × HF): partial[k, c] = Σ over rows j of chunk k of w[j, head(c)]·z[j, c]

struct Params { n: u32, m: u32, heads: u32, F: u32, prefix: u32, nnz: u32, flag: u32, _pad0: u32, p: f32, scale: f32, slope: f32, _pad1: f32 }

@group(0) @binding(0) var<uniform> params: Params;

const LOWEST: f32 = -3.40282e38;

fn nh() -> u32 { return params.n * params.heads; }
fn col_idx() -> u32 { return params.n + 1u; }
fn edge_of() -> u32 { return params.n + 1u + params.nnz; }
fn csc_ptr() -> u32 { return params.n + 1u + 2u * params.nnz; }
fn csc_row() -> u32 { return params.n + params.m + 2u + 2u * params.nnz; }
fn csc_edge() -> u32 { return params.n + params.m + 2u + 3u * params.nnz; }

// ---- scores ----
@group(0) @binding(1) var<storage, read> sc_z: array<f32>;
@group(0) @binding(2) var<storage, read> sc_asrc: array<f32>;
@group(0) @binding(3) var<storage, read> sc_adst: array<f32>;
@group(0) @binding(4) var<storage, read_write> sc_sd: array<f32>;

@compute @workgroup_size(WG)
fn scores(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= nh()) { return; }
  let H = params.heads;
  let F = params.F;
  let node = t / H;
  let h = t - node * H;
  let row = node * H * F + h * F;
  var s = 0.0;
  var d = 0.0;
  for (var c = 0u; c < F; c++) {
    let v = sc_z[row + c];
    s += sc_asrc[h * F + c] * v;
    d += sc_adst[h * F + c] * v;
  }
  sc_sd[t] = s;
  sc_sd[nh() + t] = d;
}

// ---- forward ----
@group(0) @binding(1) var<storage, read> topo: array<u32>;
@group(0) @binding(2) var<storage, read> bs_src_sd: array<f32>;
@group(0) @binding(3) var<storage, read> bs_dst_sd: array<f32>;
@group(0) @binding(4) var<storage, read_write> bs_stats: array<f32>;

@compute @workgroup_size(WG)
fn block_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= nh()) { return; }
  let H = params.heads;
  let i = t / H;
  let h = t - i * H;
  let lo = topo[i];
  let hi = topo[i + 1u];
  let di = bs_dst_sd[nh() + t];
  var m_old = LOWEST;
  var den_old = 0.0;
  if (params.flag == 0u) {
    m_old = bs_stats[t];
    den_old = bs_stats[nh() + t];
  }
  var block_max = LOWEST;
  for (var k = lo; k < hi; k++) {
    block_max = max(block_max, lrelu(bs_src_sd[topo[col_idx() + k] * H + h] + di));
  }
  let m_new = max(m_old, block_max);
  // exp(LOWEST − finite) underflows to 0: a first real score discards the empty start.
  let rescale = exp(m_old - m_new);
  var den = den_old * rescale;
  for (var k = lo; k < hi; k++) {
    den += exp(lrelu(bs_src_sd[topo[col_idx() + k] * H + h] + di) - m_new);
  }
  bs_stats[t] = m_new;
  bs_stats[nh() + t] = den;
  bs_stats[2u * nh() + t] = rescale;
}

@group(0) @binding(2) var<storage, read> bo_z: array<f32>;
@group(0) @binding(3) var<storage, read> bo_src_sd: array<f32>;
@group(0) @binding(4) var<storage, read> bo_dst_sd: array<f32>;
@group(0) @binding(5) var<storage, read> bo_stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> bo_acc: array<f32>;

@compute @workgroup_size(WG)
fn block_out(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let F = params.F;
  let HF = H * F;
  if (t >= params.n * HF) { return; }
  let i = t / HF;
  let r = t - i * HF;
  let h = r / F;
  let ih = i * H + h;
  let lo = topo[i];
  let hi = topo[i + 1u];
  let di = bo_dst_sd[nh() + ih];
  let m = bo_stats[ih];
  var acc = 0.0;
  if (params.flag == 0u) { acc = bo_acc[t] * bo_stats[2u * nh() + ih]; }
  for (var k = lo; k < hi; k++) {
    let j = topo[col_idx() + k];
    let w = exp(lrelu(bo_src_sd[j * H + h] + di) - m);
    acc += w * keep(topo[edge_of() + k], h) * bo_z[j * HF + r];
  }
  bo_acc[t] = acc;
}

@group(0) @binding(1) var<storage, read> fi_stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> fi_acc: array<f32>;

@compute @workgroup_size(WG)
fn finish(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let F = params.F;
  let HF = H * F;
  if (t >= params.n * HF) { return; }
  let i = t / HF;
  let h = (t - i * HF) / F;
  let den = fi_stats[nh() + i * H + h];
  fi_acc[t] = select(fi_acc[t] / den, 0.0, den == 0.0);
}

// ---- backward ----
@group(0) @binding(1) var<storage, read> rd_g: array<f32>;
@group(0) @binding(2) var<storage, read> rd_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> rd_stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> rd_dd: array<f32>;

@compute @workgroup_size(WG)
fn row_dots(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= nh()) { return; }
  let H = params.heads;
  let F = params.F;
  let i = t / H;
  let h = t - i * H;
  let row = i * H * F + h * F;
  // c_i = Σ_j α_ij dα_ij = Σ_j α̃_ij (g_i·z_j) = g_i·out_i: no pass over the edges.
  var c = 0.0;
  for (var col = 0u; col < F; col++) { c += rd_g[row + col] * rd_out[row + col]; }
  rd_stats[2u * nh() + t] = c;
  rd_dd[t] = 0.0;
}

@group(0) @binding(2) var<storage, read> gr_z: array<f32>;
@group(0) @binding(3) var<storage, read> gr_g: array<f32>;
@group(0) @binding(4) var<storage, read> gr_src_sd: array<f32>;
@group(0) @binding(5) var<storage, read> gr_dst_sd: array<f32>;
@group(0) @binding(6) var<storage, read> gr_stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> gr_out: array<f32>;

/** α_ij from the saved max and denominator of destination row i (ih = i·H + h); e = e_ij. */
fn gr_alpha(e: f32, ih: u32) -> f32 {
  return exp(e - gr_stats[ih]) / gr_stats[nh() + ih];
}

/** g_i,h · z_j,h (the gradient of α̃_ij). */
fn gr_dot(i: u32, j: u32, h: u32) -> f32 {
  let F = params.F;
  let HF = params.heads * F;
  var sum = 0.0;
  for (var c = 0u; c < F; c++) { sum += gr_g[i * HF + h * F + c] * gr_z[j * HF + h * F + c]; }
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
  let di = gr_dst_sd[nh() + t];
  let c = gr_stats[2u * nh() + t];
  var dd = 0.0;
  for (var k = lo; k < hi; k++) {
    let j = topo[col_idx() + k];
    let x = gr_src_sd[j * H + h] + di;
    dd += gr_alpha(lrelu(x), t) * (gr_dot(i, j, h) * keep(topo[edge_of() + k], h) - c) * lrelu_grad(x);
  }
  gr_out[t] += dd;
}

@compute @workgroup_size(WG)
fn grad_src(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.m * H) { return; }
  let j = t / H;
  let h = t - j * H;
  let lo = topo[csc_ptr() + j];
  let hi = topo[csc_ptr() + j + 1u];
  let sj = gr_src_sd[t];
  var ds = 0.0;
  for (var q = lo; q < hi; q++) {
    let i = topo[csc_row() + q];
    let ih = i * H + h;
    let x = sj + gr_dst_sd[nh() + ih];
    ds += gr_alpha(lrelu(x), ih) * (gr_dot(i, j, h) * keep(topo[csc_edge() + q], h) - gr_stats[2u * nh() + ih]) * lrelu_grad(x);
  }
  gr_out[t] = ds;
}

@group(0) @binding(2) var<storage, read> gz_g: array<f32>;
@group(0) @binding(3) var<storage, read> gz_src_sd: array<f32>;
@group(0) @binding(4) var<storage, read> gz_dst_sd: array<f32>;
@group(0) @binding(5) var<storage, read> gz_stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> gz_dz: array<f32>;

@compute @workgroup_size(WG)
fn grad_z(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let F = params.F;
  let HF = H * F;
  if (t >= params.m * HF) { return; }
  let j = t / HF;
  let r = t - j * HF;
  let h = r / F;
  let lo = topo[csc_ptr() + j];
  let hi = topo[csc_ptr() + j + 1u];
  let sj = gz_src_sd[j * H + h];
  var acc = 0.0;
  for (var q = lo; q < hi; q++) {
    let i = topo[csc_row() + q];
    let ih = i * H + h;
    let alpha = exp(lrelu(sj + gz_dst_sd[nh() + ih]) - gz_stats[ih]) / gz_stats[nh() + ih];
    acc += alpha * keep(topo[csc_edge() + q], h) * gz_g[i * HF + r];
  }
  if (params.flag != 0u) { acc += gz_dz[t]; }
  gz_dz[t] = acc;
}

// ---- per-row weights (ds, dd) against rows ----
@group(0) @binding(1) var<storage, read> as_w: array<f32>;
@group(0) @binding(2) var<storage, read> as_a: array<f32>;
@group(0) @binding(3) var<storage, read_write> as_out: array<f32>;

@compute @workgroup_size(WG)
fn add_scaled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let F = params.F;
  let HF = H * F;
  if (t >= params.n * HF) { return; }
  let j = t / HF;
  let r = t - j * HF;
  as_out[t] += as_w[j * H + r / F] * as_a[r];
}

@group(0) @binding(1) var<storage, read> wp_w: array<f32>;
@group(0) @binding(2) var<storage, read> wp_z: array<f32>;
@group(0) @binding(3) var<storage, read_write> wp_partial: array<f32>;

@compute @workgroup_size(WG)
fn weighted_partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let F = params.F;
  let HF = H * F;
  let rows = params.m;
  let chunks = (params.n + rows - 1u) / rows;
  if (t >= chunks * HF) { return; }
  let k = t / HF;
  let r = t - k * HF;
  let h = r / F;
  var sum = 0.0;
  for (var j = k * rows; j < min((k + 1u) * rows, params.n); j++) {
    sum += wp_w[j * H + h] * wp_z[j * HF + r];
  }
  wp_partial[t] = sum;
}
