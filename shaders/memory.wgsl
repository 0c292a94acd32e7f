// Rows written by events, last write wins (TGN's node memory and its one-slot mailbox). Prepend
// shaders/grid.wgsl.
// m events in time order; event i writes node nodes[i] (u32; ids ≥ N are ignored, never written). When a
// node appears several times, the event with the largest i wins: the latest event's update is kept.
// Deterministic without float atomics: `claim` elects each node's winner with an integer atomicMax on
// scratch, then `copy_rows` lets only the winner write.
//
// scratch (u32 [N], zeroed before `claim`): per node v, winner + 1 (0: no event for v).
//
// Every entry point: params {m, N, d, _} at binding 0; grid.wgsl's ceil(items / 1024) workgroups of 256.
//   claim      (m items):   1 nodes (m), 2 scratch (rw, atomic)
//   copy_rows  (m·d items): 1 nodes, 2 scratch, 3 rows (m × d), 4 target rows (rw, N × d)
// Order: claim → copy_rows (one compute pass orders them).

struct Params { m: u32, N: u32, d: u32, _a: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> nodes: array<u32>;

@group(0) @binding(2) var<storage, read_write> scratch: array<atomic<u32>>;

@compute @workgroup_size(256)
fn claim(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= p.m) { return; }
    let v = nodes[i];
    if (v >= p.N) { continue; }
    atomicMax(&scratch[v], i + 1u);
  }
}

@group(0) @binding(2) var<storage, read> elected: array<u32>;
@group(0) @binding(3) var<storage, read> src: array<f32>;
@group(0) @binding(4) var<storage, read_write> dest: array<f32>;

@compute @workgroup_size(256)
fn copy_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let e = grid_index(wid, nwg, lid, j);
    if (e >= p.m * p.d) { return; }
    let i = e / p.d;
    let v = nodes[i];
    if (v < p.N && elected[v] == i + 1u) { dest[v * p.d + (e - i * p.d)] = src[e]; }
  }
}
