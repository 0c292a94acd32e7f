// Per-node state written by events, last write wins (TGN's node memory with its last-update times, and
// its one-slot mailbox with the message timestamps). Prepend shaders/grid.wgsl.
// m events in time order; event i writes node nodes[i] (u32; ids ≥ N are ignored, never written). When a
// node appears several times, the event with the largest i wins: the latest event's update is kept.
// Deterministic without float atomics: `claim` elects each node's winner with an integer atomicMax on
// scratch, then the copy kernels let only the winner write.
//
// scratch (u32 [N × 3], zeroed before `claim`): per node v
//   [3v]     winner + 1 (0: no event for v)
//   [3v + 1] MONOTONIC: max over v's events of order_key(time), an order-preserving u32 image of the f32
//            (0 below every key, so zero means "none")
//   [3v + 2] MONOTONIC: 1 when a write to v is refused (then v keeps its row and its time)
// report (u32 [8], set to [0, 0xffffffff, 0, …] before `judge`): [0] refused events, [1] smallest refused
//   event index, then for that event (by `describe`): [2] node, [3] its time, [4] the node's stored time,
//   [5] the latest time among the node's events in this call (f32 bits).
// A MONOTONIC write refuses event i of node v when time[i] < stored time of v (or either is NaN), or when
// i is v's winner but an earlier event of v in this call has a later time (the memory would end behind
// an event it already saw). A node with any refused event is not written at all.
//
// Every entry point: params {m, N, d, _} at binding 0; grid.wgsl's ceil(items / 1024) workgroups of 256.
//   claim      (m items):   1 nodes (m), 2 scratch (rw, atomic) [, MONOTONIC: 3 times (m)]
//   judge      (m items):   1 nodes, 2 scratch (rw, atomic), 3 times (m), 4 stored times (N), 5 report (rw, atomic)
//   describe   (1 item):    the same bindings as judge
//   copy_rows  (m·d items): 1 nodes, 2 scratch, 3 rows (m × d), 4 target rows (rw, N × d)
//   copy_times (m items):   1 nodes, 2 scratch, 3 times (m), 4 target times (rw, N)
// Order: claim → [judge → describe] → copy_rows and/or copy_times (one compute pass orders them).

struct Params { m: u32, N: u32, d: u32, _a: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> nodes: array<u32>;

/** Order-preserving map of f32 to u32 (negative values flip all bits, others set the sign bit). */
fn order_key(t: f32) -> u32 {
  let b = bitcast<u32>(t);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn from_key(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

@group(0) @binding(2) var<storage, read_write> scratch: array<atomic<u32>>;
//#if MONOTONIC
@group(0) @binding(3) var<storage, read> times: array<f32>;
//#endif

@compute @workgroup_size(256)
fn claim(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= p.m) { return; }
    let v = nodes[i];
    if (v >= p.N) { continue; }
    atomicMax(&scratch[3u * v], i + 1u);
//#if MONOTONIC
    atomicMax(&scratch[3u * v + 1u], order_key(times[i]));
//#endif
  }
}

//#if MONOTONIC
@group(0) @binding(4) var<storage, read> stored: array<f32>;
@group(0) @binding(5) var<storage, read_write> report: array<atomic<u32>>;

@compute @workgroup_size(256)
fn judge(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= p.m) { return; }
    let v = nodes[i];
    if (v >= p.N) { continue; }
    let t = times[i];
    // Written so that a NaN on either side refuses.
    var refused = !(t >= stored[v]);
    let isWinner = atomicLoad(&scratch[3u * v]) == i + 1u;
    if (isWinner && order_key(t) != atomicLoad(&scratch[3u * v + 1u])) { refused = true; }
    if (refused) {
      atomicAdd(&report[0], 1u);
      atomicMin(&report[1], i);
      atomicOr(&scratch[3u * v + 2u], 1u);
    }
  }
}

@compute @workgroup_size(1)
fn describe() {
  if (atomicLoad(&report[0]) == 0u || p.m == 0u) { return; }
  let e = atomicLoad(&report[1]);
  let v = nodes[e];
  atomicStore(&report[2], v);
  atomicStore(&report[3], bitcast<u32>(times[e]));
  atomicStore(&report[4], bitcast<u32>(stored[v]));
  atomicStore(&report[5], bitcast<u32>(from_key(atomicLoad(&scratch[3u * v + 1u]))));
}
//#endif

@group(0) @binding(2) var<storage, read> elected: array<u32>;

/** Whether event i (of node v < N) is the one that writes v. */
fn writes(i: u32, v: u32) -> bool {
  return elected[3u * v] == i + 1u && elected[3u * v + 2u] == 0u;
}

@group(0) @binding(3) var<storage, read> src: array<f32>;
@group(0) @binding(4) var<storage, read_write> dest: array<f32>;

@compute @workgroup_size(256)
fn copy_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let e = grid_index(wid, nwg, lid, j);
    if (e >= p.m * p.d) { return; }
    let i = e / p.d;
    let v = nodes[i];
    if (v < p.N && writes(i, v)) { dest[v * p.d + (e - i * p.d)] = src[e]; }
  }
}

@compute @workgroup_size(256)
fn copy_times(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= p.m) { return; }
    let v = nodes[i];
    if (v < p.N && writes(i, v)) { dest[v] = src[i]; }
  }
}
