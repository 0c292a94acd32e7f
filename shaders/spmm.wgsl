//#if SUBGROUPS
enable subgroups;
diagnostic(off, subgroup_uniformity);
//#endif
// Sparse × dense product Y = A·X (graph aggregation), f32, deterministic: fixed summation order, no atomics.
// A is stored as segments of at most S nonzeros (see src/tensor/sparse-matrix.ts); a segment whose row
// has no other segment is written straight to Y, the others to partial slots that `combine` sums.
// With VEC4 defined, X, Y and partial are read as vec4 (F a multiple of 4) and `cols` counts vec4s.
//
// Entry point aggregate. Bindings: 0 params {numSegs, cols, numLong, _},
//   1 segs (read, (numSegs + 1) × (start, out)), 2 entries (read, nnz × (col, weight bits)),
//   3 x (read, numCols × cols), 4 y (read_write, numRows × cols), 5 partial (read_write, slots × cols).
// Dispatch: ceil(numSegs / (WG / T)) workgroups of WG threads (linear, folded into y past 65535).
//   A group of T consecutive threads (T a power of two dividing WG) owns one segment; thread t of the
//   group owns columns t, t + T, ...; reads of an X row are coalesced across the group. Small F uses
//   small T, so a workgroup holds several segments instead of idling most threads.
//   SUBGROUPS: the group loads min(T, subgroup size) nonzeros at once, one per thread, and broadcasts
//   them with subgroupShuffle (assumes subgroups are consecutive, aligned runs of local_invocation_index,
//   as on every implementation we know). Otherwise every thread reads the (same) nonzero itself.
//
// Entry point combine. Bindings: 0 params {numSegs, cols, numLong, _},
//   1 longs (read, (numLong + 1) × (row, first slot)), 2 partial_in (read, slots × cols), 3 y (read_write).
// Dispatch: ceil(numLong · cols / WG) workgroups of WG threads (linear, folded); one thread per
//   (long row, column) sums that row's partial slots in slot order.

struct Params { numSegs: u32, cols: u32, numLong: u32, _pad: u32 }

//#if VEC4
alias V = vec4<f32>;
//#else
alias V = f32;
//#endif

const PARTIAL_FLAG: u32 = 0x80000000u;

override WG: u32 = 64u;
override T: u32 = 16u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> segs: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> entries: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> x: array<V>;
@group(0) @binding(4) var<storage, read_write> y: array<V>;
@group(0) @binding(5) var<storage, read_write> partial: array<V>;

@compute @workgroup_size(WG)
fn aggregate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32
//#if SUBGROUPS
             , @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32
//#endif
             ) {
  let group = lid / T;
  let t = lid % T;
  let s = (wid.y * nwg.x + wid.x) * (WG / T) + group;
  let cols = p.cols;
  var start = 0u;
  var len = 0u;
  var out = 0u;
  if (s < p.numSegs) {
    let seg = segs[s];
    start = seg.x;
    out = seg.y;
    len = segs[s + 1u].x - start;
  }
  let to_partial = (out & PARTIAL_FLAG) != 0u;
  let base = (out & ~PARTIAL_FLAG) * cols;
//#if SUBGROUPS
  // Threads of one group broadcast to each other; C of them load nonzeros at once.
  let C = min(T, sg_size);
  let lane = sg_lane % C;
  let first = sg_lane - lane;
  // Loop bounds uniform over the subgroup, so every shuffle's source thread is active.
  let sub_len = subgroupMax(len);
//#endif
  // Every thread of a group runs the same number of column passes (shuffles need all of them).
  for (var c0 = 0u; c0 < cols; c0 += T) {
    let c = c0 + t;
    let live = c < cols;
    var acc = V(0.0);
//#if SUBGROUPS
    for (var k0 = 0u; k0 < sub_len; k0 += C) {
      var e = vec2<u32>(0u, 0u);
      if (k0 + lane < len) { e = entries[start + k0 + lane]; }
      for (var kk = 0u; kk < C; kk++) {
        let b = subgroupShuffle(e, first + kk);
        if (live && k0 + kk < len) { acc += bitcast<f32>(b.y) * x[b.x * cols + c]; }
      }
    }
//#else
    if (live) {
      for (var k = start; k < start + len; k++) {
        let e = entries[k];
        acc += bitcast<f32>(e.y) * x[e.x * cols + c];
      }
    }
//#endif
    if (live && s < p.numSegs) {
      if (to_partial) { partial[base + c] = acc; } else { y[base + c] = acc; }
    }
  }
}

@group(0) @binding(1) var<storage, read> longs: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> partial_in: array<V>;
@group(0) @binding(3) var<storage, read_write> y_out: array<V>;

@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let cols = p.cols;
  if (i >= p.numLong * cols) { return; }
  let r = i / cols;
  let c = i % cols;
  let here = longs[r];
  let end = longs[r + 1u].y;
  var acc = V(0.0);
  for (var slot = here.y; slot < end; slot++) { acc += partial_in[slot * cols + c]; }
  y_out[here.x * cols + c] = acc;
}
