//#if SUBGROUPS
enable subgroups;
//#endif
// Softmax cross-entropy over the rows of a [N, C] logits matrix picked by an index (a split's nodes),
// and the argmax metrics. A "team" of p.team threads (a power of two ≤ 64, min(nextPow2(C), 64), set on
// the CPU) handles one row: lane l reads columns l, l + team, …, then the team reduces (max, sum or
// argmax). A workgroup of 256 threads holds 256 / team teams, so any C from 1 up works.
// Team reductions: strides ≥ the subgroup size go through workgroup memory as a tree, smaller strides
// through a subgroupShuffleXor butterfly that adds the same pairs in the same order as the tree would.
// So the result is bitwise the same with subgroups of any size or without them (SUBGROUPS off: all tree).
//
// Entry points and bindings (0 is params {N, C, n, team, invDen, _, _, _}; n = rows processed):
//   losses:  1 logits (read), 2 labels (i32[N]), 3 index (i32[n]), 4 loss (read_write, f32[n])
//            loss[k] = (logsumexp(x[i]) − x[i, label[i]]) · invDen, i = index[k]
//   grad:    1 logits, 2 labels, 3 index, 4 g (read, f32[1]), 5 gx (read_write, [N, C], zeroed by the caller)
//            gx[i] = (softmax(x[i]) − onehot(label[i])) · g · invDen, i = index[k]  (softmax recomputed)
//   correct: 1 logits, 2 labels, 3 index, 4 count (atomic u32, zeroed by the caller)
//            count += [argmax(x[i]) = label[i]]  (integer atomics: exact and order-free)
//   argmax:  1 logits, 2 pred (read_write, i32[N]); n = N.  pred[i] = first index of row i's maximum
// Indexed rows outside [0, N) and labels outside [0, C) contribute nothing (no loss, no gradient, not counted).
// Dispatch: ceil(n / (256 / team)) workgroups of 256, folded into (x, y) past 65535.

struct Params { N: u32, C: u32, n: u32, team: u32, invDen: f32, _a: u32, _b: u32, _c: u32 }

const WG: u32 = 256u;
const LOWEST: f32 = -3.4028234e38;
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;

//#if SUBGROUPS
var<workgroup> tickets: atomic<u32>;

// WebGPU does not promise how local_invocation_index maps onto subgroups, so subgroups number themselves
// in arrival order: vlid = ticket · sg + lane makes each subgroup a block of consecutive ids, as the
// teams need. (Assumes full subgroups, true when 256 is a multiple of the subgroup size.)
fn virtual_lid(sg_id: u32, sg: u32) -> u32 {
  var ticket = 0u;
  if (sg_id == 0u) { ticket = atomicAdd(&tickets, 1u); }
  ticket = subgroupBroadcast(ticket, 0u);
  return ticket * sg + sg_id;
}
//#endif

// The three team reductions. `sg` is the subgroup size (1 without subgroups); both `p.team` and `sg`
// are uniform, so every barrier and shuffle is reached by the whole workgroup.
fn team_max(v: f32, vlid: u32, sg: u32) -> f32 {
  var x = v;
  let lane = vlid % p.team;
  if (p.team > sg) {
    workgroupBarrier();
    red_f[vlid] = x;
    workgroupBarrier();
    for (var o = p.team >> 1u; o >= sg; o >>= 1u) {
      if (lane < o) { red_f[vlid] = max(red_f[vlid], red_f[vlid + o]); }
      workgroupBarrier();
    }
    x = red_f[vlid - lane + lane % sg];
  }
//#if SUBGROUPS
  for (var o = min(p.team, sg) >> 1u; o > 0u; o >>= 1u) { x = max(x, subgroupShuffleXor(x, o)); }
//#endif
  return x;
}

fn team_sum(v: f32, vlid: u32, sg: u32) -> f32 {
  var x = v;
  let lane = vlid % p.team;
  if (p.team > sg) {
    workgroupBarrier();
    red_f[vlid] = x;
    workgroupBarrier();
    for (var o = p.team >> 1u; o >= sg; o >>= 1u) {
      if (lane < o) { red_f[vlid] = red_f[vlid] + red_f[vlid + o]; }
      workgroupBarrier();
    }
    x = red_f[vlid - lane + lane % sg];
  }
//#if SUBGROUPS
  for (var o = min(p.team, sg) >> 1u; o > 0u; o >>= 1u) { x = x + subgroupShuffleXor(x, o); }
//#endif
  return x;
}

// (w, j) beats (v, i): larger value, then smaller column (first maximum); NONE marks "no column yet".
fn beats(w: f32, j: u32, v: f32, i: u32) -> bool {
  if (j == NONE) { return false; }
  if (i == NONE) { return true; }
  return w > v || (w == v && j < i);
}

fn team_argmax(v: f32, i: u32, vlid: u32, sg: u32) -> u32 {
  var best = v;
  var at = i;
  let lane = vlid % p.team;
  if (p.team > sg) {
    workgroupBarrier();
    red_f[vlid] = best;
    red_u[vlid] = at;
    workgroupBarrier();
    for (var o = p.team >> 1u; o >= sg; o >>= 1u) {
      if (lane < o && beats(red_f[vlid + o], red_u[vlid + o], red_f[vlid], red_u[vlid])) {
        red_f[vlid] = red_f[vlid + o];
        red_u[vlid] = red_u[vlid + o];
      }
      workgroupBarrier();
    }
    best = red_f[vlid - lane + lane % sg];
    at = red_u[vlid - lane + lane % sg];
  }
//#if SUBGROUPS
  for (var o = min(p.team, sg) >> 1u; o > 0u; o >>= 1u) {
    let w = subgroupShuffleXor(best, o);
    let j = subgroupShuffleXor(at, o);
    if (beats(w, j, best, at)) { best = w; at = j; }
  }
//#endif
  return at;
}

// Max and Σ exp(x − max) of a row (team-wide; lanes of invalid rows contribute neutral values).
fn row_stats(row: u32, valid: bool, lane: u32, vlid: u32, sg: u32) -> vec2<f32> {
  var m = LOWEST;
  if (valid) {
    for (var c = lane; c < p.C; c += p.team) { m = max(m, logits[row * p.C + c]); }
  }
  m = team_max(m, vlid, sg);
  var s = 0.0;
  if (valid) {
    for (var c = lane; c < p.C; c += p.team) { s += exp(logits[row * p.C + c] - m); }
  }
  s = team_sum(s, vlid, sg);
  return vec2<f32>(m, s);
}

// First column of a row's maximum (NONE for an invalid row).
fn row_argmax(row: u32, valid: bool, lane: u32, vlid: u32, sg: u32) -> u32 {
  var best = LOWEST;
  var at = NONE;
  if (valid) {
    for (var c = lane; c < p.C; c += p.team) {
      let v = logits[row * p.C + c];
      if (beats(v, c, best, at)) { best = v; at = c; }
    }
  }
  return team_argmax(best, at, vlid, sg);
}

@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> index: array<i32>;

struct Node { row: u32, label: u32, valid: bool }

// The node of slot k of the index, checked against N and C.
fn node_at(slot: u32) -> Node {
  var node = Node(0u, 0u, false);
  if (slot < p.n) {
    let r = index[slot];
    if (r >= 0 && u32(r) < p.N) {
      let l = labels[u32(r)];
      node = Node(u32(r), u32(l), l >= 0 && u32(l) < p.C);
    }
  }
  return node;
}

@group(0) @binding(4) var<storage, read_write> loss: array<f32>;

@compute @workgroup_size(256)
fn losses(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
//#if SUBGROUPS
          @builtin(subgroup_invocation_id) sg_id: u32, @builtin(subgroup_size) sg_size: u32,
//#endif
          @builtin(local_invocation_index) lid: u32) {
//#if SUBGROUPS
  let sg = sg_size;
  let vlid = virtual_lid(sg_id, sg);
//#else
  let sg = 1u;
  let vlid = lid;
//#endif
  let slot = (wid.y * nwg.x + wid.x) * (WG / p.team) + vlid / p.team;
  let lane = vlid % p.team;
  let node = node_at(slot);
  let stats = row_stats(node.row, node.valid, lane, vlid, sg);
  if (lane == 0u && slot < p.n) {
    var l = 0.0;
    if (node.valid) { l = (log(stats.y) + stats.x - logits[node.row * p.C + node.label]) * p.invDen; }
    loss[slot] = l;
  }
}

@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(256)
fn grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
//#if SUBGROUPS
        @builtin(subgroup_invocation_id) sg_id: u32, @builtin(subgroup_size) sg_size: u32,
//#endif
        @builtin(local_invocation_index) lid: u32) {
//#if SUBGROUPS
  let sg = sg_size;
  let vlid = virtual_lid(sg_id, sg);
//#else
  let sg = 1u;
  let vlid = lid;
//#endif
  let slot = (wid.y * nwg.x + wid.x) * (WG / p.team) + vlid / p.team;
  let lane = vlid % p.team;
  let node = node_at(slot);
  let stats = row_stats(node.row, node.valid, lane, vlid, sg);
  if (node.valid) {
    let scale = g[0] * p.invDen;
    for (var c = lane; c < p.C; c += p.team) {
      let i = node.row * p.C + c;
      let softmax = exp(logits[i] - stats.x) / stats.y;
      gx[i] = (softmax - select(0.0, 1.0, c == node.label)) * scale;
    }
  }
}

@group(0) @binding(4) var<storage, read_write> count: atomic<u32>;

@compute @workgroup_size(256)
fn correct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
//#if SUBGROUPS
           @builtin(subgroup_invocation_id) sg_id: u32, @builtin(subgroup_size) sg_size: u32,
//#endif
           @builtin(local_invocation_index) lid: u32) {
//#if SUBGROUPS
  let sg = sg_size;
  let vlid = virtual_lid(sg_id, sg);
//#else
  let sg = 1u;
  let vlid = lid;
//#endif
  let slot = (wid.y * nwg.x + wid.x) * (WG / p.team) + vlid / p.team;
  let lane = vlid % p.team;
  let node = node_at(slot);
  let best = row_argmax(node.row, node.valid, lane, vlid, sg);
  if (lane == 0u && node.valid && best == node.label) { atomicAdd(&count, 1u); }
}

@group(0) @binding(2) var<storage, read_write> pred: array<i32>;

@compute @workgroup_size(256)
fn argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
//#if SUBGROUPS
          @builtin(subgroup_invocation_id) sg_id: u32, @builtin(subgroup_size) sg_size: u32,
//#endif
          @builtin(local_invocation_index) lid: u32) {
//#if SUBGROUPS
  let sg = sg_size;
  let vlid = virtual_lid(sg_id, sg);
//#else
  let sg = 1u;
  let vlid = lid;
//#endif
  let row = (wid.y * nwg.x + wid.x) * (WG / p.team) + vlid / p.team;
  let lane = vlid % p.team;
  let valid = row < p.N;
  let best = row_argmax(row, valid, lane, vlid, sg);
  if (lane == 0u && valid) { pred[row] = i32(best); }
}
