// Unfused graph attention (reference path for tests and the benchmark): the same maths as gat.wgsl,
// split into simple ops that materialise every edge × head tensor, as an ordinary implementation would.
// Prepend shaders/random.wgsl (attention dropout masks keyed by (edge id in CSR order, head)).
// Notation: N nodes, H heads, F features per head, HF = H·F, E edges (CSR order, rows = destinations).
// Edge tensors are [E, H] row-major (element k·H + h). Deterministic: every sum runs over edges (or rows)
// in storage order, one thread per output element, no atomics.
//
// topo (u32, src/tensor/graph-csr.ts): [csrPtr: N+1 | csrSrc: E | cscPtr: N+1 | cscDst: E | cscEdge: E].
//
// Every entry point: params {n, heads, F, nnz, prefix, p, scale, slope} at binding 0; threads numbered
// linearly (wid.y·nwg.x + wid.x)·WG + lid (counts past 65535 workgroups folded into y); ceil(count / WG)
// workgroups of WG threads, where count is the number of work items given below.
//   head_dot          (N·H items: node, head):     1 z (N × HF), 2 a (HF), 3 out (rw, N × H): out = ⟨z_n,h, a_h⟩
//   head_dot_grad_z   (N·HF items: node, col):      1 g (N × H), 2 a, 3 dz (rw, N × HF): dz = g_n,h·a_h,c
//   head_dot_products (N·HF items: node, col):      1 g (N × H), 2 z, 3 prod (rw, N × HF): g_n,h·z_n,c
//   edge_scores       (N·H items: dst, head):      1 topo, 2 s (N × H), 3 d (N × H), 4 e (rw, E × H):
//                     e_k,h = LeakyReLU(s_src(k),h + d_dst(k),h)
//   edge_scores_grad_dst (N·H items: dst, head):   1 topo, 2 s, 3 d, 4 g (E × H), 5 dd (rw, N × H)
//   edge_scores_grad_src (N·H items: src, head):   1 topo, 2 s, 3 d, 4 g (E × H), 5 ds (rw, N × H) (via the CSC)
//   softmax           (N·H items: dst, head):      1 topo, 2 e (E × H), 3 alpha (rw, E × H) over each row's edges
//   softmax_grad      (N·H items: dst, head):      1 topo, 2 alpha, 3 g (E × H), 4 de (rw, E × H)
//   edge_dropout      (E·H items: edge, head):     1 x (E × H), 2 y (rw, E × H): y = x·keep(k, h) (forward and backward)
//   aggregate         (N·HF items: dst, col):      1 topo, 2 w (E × H), 3 z (N × HF), 4 out (rw, N × HF)
//   aggregate_grad_z  (N·HF items: src, col):      1 topo, 2 w, 3 g (N × HF), 4 dz (rw, N × HF) (via the CSC)
//   aggregate_grad_w  (N·H items: dst, head):      1 topo, 2 z, 3 g (N × HF), 4 dw (rw, E × H)

// item, lrelu, keep: shaders/gat-functions.wgsl; Params and the topology offsets: shaders/gat-common.wgsl (both prepended).

// ---- per-node scores ----
@group(0) @binding(1) var<storage, read> hd_z: array<f32>;
@group(0) @binding(2) var<storage, read> hd_a: array<f32>;
@group(0) @binding(3) var<storage, read_write> hd_out: array<f32>;

@compute @workgroup_size(WG)
fn head_dot(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  if (t >= params.n * params.heads) { return; }
  let node = t / params.heads;
  let h = t - node * params.heads;
  let F = params.F;
  let row = node * params.heads * F + h * F;
  var acc = 0.0;
  for (var c = 0u; c < F; c++) { acc += hd_a[h * F + c] * hd_z[row + c]; }
  hd_out[t] = acc;
}

@group(0) @binding(1) var<storage, read> hg_g: array<f32>;
@group(0) @binding(2) var<storage, read> hg_a: array<f32>;
@group(0) @binding(3) var<storage, read_write> hg_dz: array<f32>;

@compute @workgroup_size(WG)
fn head_dot_grad_z(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let HF = params.heads * params.F;
  if (t >= params.n * HF) { return; }
  let node = t / HF;
  let r = t - node * HF;
  hg_dz[t] = hg_g[node * params.heads + r / params.F] * hg_a[r];
}

@group(0) @binding(1) var<storage, read> hp_g: array<f32>;
@group(0) @binding(2) var<storage, read> hp_z: array<f32>;
@group(0) @binding(3) var<storage, read_write> hp_prod: array<f32>;

@compute @workgroup_size(WG)
fn head_dot_products(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let HF = params.heads * params.F;
  if (t >= params.n * HF) { return; }
  let node = t / HF;
  let r = t - node * HF;
  hp_prod[t] = hp_g[node * params.heads + r / params.F] * hp_z[t];
}

// ---- edge scores ----
@group(0) @binding(1) var<storage, read> topo: array<u32>;
@group(0) @binding(2) var<storage, read> es_s: array<f32>;
@group(0) @binding(3) var<storage, read> es_d: array<f32>;
@group(0) @binding(4) var<storage, read_write> es_e: array<f32>;

@compute @workgroup_size(WG)
fn edge_scores(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.n * H) { return; }
  let i = t / H;
  let h = t - i * H;
  let di = es_d[t];
  for (var k = topo[i]; k < topo[i + 1u]; k++) {
    es_e[k * H + h] = lrelu(es_s[topo[csr_src() + k] * H + h] + di);
  }
}

@group(0) @binding(4) var<storage, read> eg_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> eg_out: array<f32>;

@compute @workgroup_size(WG)
fn edge_scores_grad_dst(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.n * H) { return; }
  let i = t / H;
  let h = t - i * H;
  let di = es_d[t];
  var acc = 0.0;
  for (var k = topo[i]; k < topo[i + 1u]; k++) {
    acc += eg_g[k * H + h] * lrelu_grad(es_s[topo[csr_src() + k] * H + h] + di);
  }
  eg_out[t] = acc;
}

@compute @workgroup_size(WG)
fn edge_scores_grad_src(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.n * H) { return; }
  let j = t / H;
  let h = t - j * H;
  let sj = es_s[t];
  var acc = 0.0;
  for (var q = topo[csc_ptr() + j]; q < topo[csc_ptr() + j + 1u]; q++) {
    let k = topo[csc_edge() + q];
    acc += eg_g[k * H + h] * lrelu_grad(sj + es_d[topo[csc_dst() + q] * H + h]);
  }
  eg_out[t] = acc;
}

// ---- segment softmax ----
@group(0) @binding(2) var<storage, read> sm_e: array<f32>;
@group(0) @binding(3) var<storage, read_write> sm_alpha: array<f32>;

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.n * H) { return; }
  let i = t / H;
  let h = t - i * H;
  let lo = topo[i];
  let hi = topo[i + 1u];
  var m = -3.40282e38;
  for (var k = lo; k < hi; k++) { m = max(m, sm_e[k * H + h]); }
  var den = 0.0;
  for (var k = lo; k < hi; k++) { den += exp(sm_e[k * H + h] - m); }
  for (var k = lo; k < hi; k++) { sm_alpha[k * H + h] = exp(sm_e[k * H + h] - m) / den; }
}

@group(0) @binding(2) var<storage, read> sg_alpha: array<f32>;
@group(0) @binding(3) var<storage, read> sg_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> sg_de: array<f32>;

@compute @workgroup_size(WG)
fn softmax_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.n * H) { return; }
  let i = t / H;
  let h = t - i * H;
  let lo = topo[i];
  let hi = topo[i + 1u];
  var c = 0.0;
  for (var k = lo; k < hi; k++) { c += sg_alpha[k * H + h] * sg_g[k * H + h]; }
  for (var k = lo; k < hi; k++) { sg_de[k * H + h] = sg_alpha[k * H + h] * (sg_g[k * H + h] - c); }
}

// ---- attention dropout ----
@group(0) @binding(1) var<storage, read> dr_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> dr_y: array<f32>;

@compute @workgroup_size(WG)
fn edge_dropout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.nnz * H) { return; }
  let k = t / H;
  dr_y[t] = dr_x[t] * keep(k, t - k * H);
}

// ---- aggregation ----
@group(0) @binding(2) var<storage, read> ag_w: array<f32>;
@group(0) @binding(3) var<storage, read> ag_z: array<f32>;
@group(0) @binding(4) var<storage, read_write> ag_out: array<f32>;

@compute @workgroup_size(WG)
fn aggregate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let HF = H * params.F;
  if (t >= params.n * HF) { return; }
  let i = t / HF;
  let r = t - i * HF;
  let h = r / params.F;
  var acc = 0.0;
  for (var k = topo[i]; k < topo[i + 1u]; k++) {
    acc += ag_w[k * H + h] * ag_z[topo[csr_src() + k] * HF + r];
  }
  ag_out[t] = acc;
}

@compute @workgroup_size(WG)
fn aggregate_grad_z(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // Bindings as aggregate: ag_w = w, ag_z = g (the upstream gradient), ag_out = dz.
  let t = item(wid, nwg, lid);
  let H = params.heads;
  let HF = H * params.F;
  if (t >= params.n * HF) { return; }
  let j = t / HF;
  let r = t - j * HF;
  let h = r / params.F;
  var acc = 0.0;
  for (var q = topo[csc_ptr() + j]; q < topo[csc_ptr() + j + 1u]; q++) {
    acc += ag_w[topo[csc_edge() + q] * H + h] * ag_z[topo[csc_dst() + q] * HF + r];
  }
  ag_out[t] = acc;
}

@group(0) @binding(2) var<storage, read> aw_z: array<f32>;
@group(0) @binding(3) var<storage, read> aw_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> aw_dw: array<f32>;

@compute @workgroup_size(WG)
fn aggregate_grad_w(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = item(wid, nwg, lid);
  let H = params.heads;
  if (t >= params.n * H) { return; }
  let i = t / H;
  let h = t - i * H;
  let F = params.F;
  let HF = H * F;
  for (var k = topo[i]; k < topo[i + 1u]; k++) {
    let j = topo[csr_src() + k];
    var acc = 0.0;
    for (var c = 0u; c < F; c++) { acc += aw_g[i * HF + h * F + c] * aw_z[j * HF + h * F + c]; }
    aw_dw[k * H + h] = acc;
  }
}
