// Layer normalization over the last dim (PyTorch's nn.LayerNorm), forward and backward, f32.
// x is [n, d]; per row: μ = mean(x), σ² = mean((x − μ)²) (biased), r = 1/√(σ² + eps), x̂ = (x − μ)·r,
// y = x̂·γ + β. Backward for upstream g, with gy = g·γ:
//   dx = r·(gy − mean(gy) − x̂·mean(gy·x̂)),   dγ = Σ_rows g·x̂,   dβ = Σ_rows g.
// dγ and dβ are column sums taken by reduce.wgsl in a fixed order (no float atomics): the backward here
// writes the products g·x̂ for it.
//
// A "team" of p.team threads (a power of two ≤ 64, min(nextPow2(d), 64), set on the CPU) handles one row:
// lane l reads columns l, l + team, …, then the team adds up through workgroup memory as a tree (fixed
// order: deterministic). A workgroup of 256 threads holds 256 / team teams, so any d ≥ 1 works.
//
// Large offsets (a row around 1e4 with spread 1, where f32 cannot even hold μ to better than 5e-4): every
// row is first shifted by its own first element s = x[row, 0]. x − s is exact for values within a factor
// 2 of s (Sterbenz) and otherwise one rounding of a result no larger than the row's spread, so the mean
// is kept as μ' = μ − s relative to that shift and x − μ = (x − s) − μ' stays accurate to the data's
// spread, not to its offset. The variance is two-pass on these centred values, with the usual correction
// (Σc² − (Σc)²/d)/d that cancels the rounding left in μ' (never E[x²] − E[x]²).
//
// Entry points; every one has params {n, d, team, eps} at binding 0:
//   forward:   1 x (n × d), 2 gamma (d), 3 beta (d), 4 y (rw, n × d), 5 stats (rw, n × 2)
//              y as above; stats[row] = (μ', r), saved for the backward
//   backward:  1 x, 2 gamma, 3 stats (n × 2, from forward), 4 g (n × d), 5 dx (rw, n × d),
//              6 gxhat (rw, n × d)   dx as above, gxhat = g·x̂ (dγ's column-sum terms)
// Dispatch: ceil(n / (256 / team)) workgroups of 256, folded into (x, y) past 65535.

struct Params { n: u32, d: u32, team: u32, eps: f32 }

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;

var<workgroup> red: array<vec2<f32>, WG>;

// Sum over the team of lane values v (two sums at once). p.team is uniform, so every barrier is reached
// by the whole workgroup; lanes of rows past n take part with zeros.
fn team_sum(v: vec2<f32>, lid: u32) -> vec2<f32> {
  let lane = lid % p.team;
  workgroupBarrier();
  red[lid] = v;
  workgroupBarrier();
  for (var o = p.team >> 1u; o > 0u; o >>= 1u) {
    if (lane < o) { red[lid] = red[lid] + red[lid + o]; }
    workgroupBarrier();
  }
  return red[lid - lane];
}

struct Row { index: u32, lane: u32, valid: bool }

fn row_of(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> Row {
  let index = (wid.y * nwg.x + wid.x) * (WG / p.team) + lid / p.team;
  return Row(index, lid % p.team, index < p.n);
}

/** The row's shift s = x[row, 0] (0 for rows past n, which read nothing). */
fn shift_of(r: Row) -> f32 {
  if (r.valid) { return x[r.index * p.d]; }
  return 0.0;
}

/** x − μ for column c, as (x − s) − μ'. */
fn centred(r: Row, c: u32, s: f32, mu: f32) -> f32 {
  return (x[r.index * p.d + c] - s) - mu;
}

@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats_out: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_of(wid, nwg, lid);
  let s = shift_of(r);
  let dn = f32(p.d);
  // Pass 1: μ' = mean(x − s).
  var acc = 0.0;
  if (r.valid) {
    for (var c = r.lane; c < p.d; c += p.team) { acc += x[r.index * p.d + c] - s; }
  }
  let mu = team_sum(vec2<f32>(acc, 0.0), lid).x / dn;
  // Pass 2: Σ c and Σ c² of the centred values c = x − μ.
  var sums = vec2<f32>(0.0);
  if (r.valid) {
    for (var c = r.lane; c < p.d; c += p.team) {
      let v = centred(r, c, s, mu);
      sums += vec2<f32>(v, v * v);
    }
  }
  let t = team_sum(sums, lid);
  let variance = max((t.y - t.x * t.x / dn) / dn, 0.0);
  let rstd = inverseSqrt(variance + p.eps);
  if (!r.valid) { return; }
  for (var c = r.lane; c < p.d; c += p.team) {
    y[r.index * p.d + c] = centred(r, c, s, mu) * rstd * gamma[c] + beta[c];
  }
  if (r.lane == 0u) {
    stats_out[2u * r.index] = mu;
    stats_out[2u * r.index + 1u] = rstd;
  }
}

@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> gxhat: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_of(wid, nwg, lid);
  let s = shift_of(r);
  var mu = 0.0;
  var rstd = 0.0;
  if (r.valid) {
    mu = stats[2u * r.index];
    rstd = stats[2u * r.index + 1u];
  }
  // Σ gy and Σ gy·x̂ over the row, x̂ recomputed from the saved (μ', r) exactly as the forward had it.
  var acc = vec2<f32>(0.0);
  if (r.valid) {
    for (var c = r.lane; c < p.d; c += p.team) {
      let xh = centred(r, c, s, mu) * rstd;
      let gy = g[r.index * p.d + c] * gamma[c];
      acc += vec2<f32>(gy, gy * xh);
    }
  }
  let means = team_sum(acc, lid) / f32(p.d);
  if (!r.valid) { return; }
  for (var c = r.lane; c < p.d; c += p.team) {
    let e = r.index * p.d + c;
    let xh = centred(r, c, s, mu) * rstd;
    dx[e] = rstd * (g[e] * gamma[c] - means.x - xh * means.y);
    gxhat[e] = g[e] * xh;
  }
}
