//#if SUBGROUPS
enable subgroups;
diagnostic(off, subgroup_uniformity);
//#endif
// Sparse × dense product Y = A·X (graph aggregation), f32. Deterministic: every output element is summed
// in a fixed order (nonzeros in storage order within a segment, then segments in order), no atomics.
// A is stored as segments of at most S nonzeros (src/tensor/sparse-matrix.ts): a segment whose row has
// no other segment is written straight to Y, the others to partial slots that `combine` adds up.
// With VEC4 defined, X, Y and partial are read as vec4 (F a multiple of 4) and `cols` counts vec4s.
//
// Entry point aggregate. Bindings: 0 params {numSegs, cols, numLong, sink (always 0)},
//   1 segs (read, (numSegs + 1) × (start, out)), 2 entries (read, nnz × (col, weight bits)),
//   3 x (read, numCols × cols), 4 y (read_write, numRows × cols), 5 partial (read_write, slots × cols).
// Dispatch: ceil(numSegs / (WG / T)) workgroups of WG threads (linear, folded into y past 65535).
//   A group of T threads (T a power of two dividing WG) owns one segment; thread t of the group owns
//   columns t + T·(r + R·pass) for r < R, so reads of an X row are coalesced across the group and small
//   F uses small T: a workgroup then holds several segments instead of idling most threads.
//   SUBGROUPS: min(T, subgroup size) threads of a group load that many nonzeros at once, one each, and
//   broadcast them with subgroupShuffle. This needs each subgroup to be a run of consecutive
//   local_invocation_index values starting at a multiple of that count (true of every implementation
//   we know); a subgroup that finds otherwise (or DIRECT) reads its nonzeros directly instead.
//   Without SUBGROUPS the workgroup stages its nonzeros in workgroup memory, TILE at a time, and every
//   thread reads its segment's nonzeros from there.
//   TOUCH (set for CPU adapters): before summing a run of nonzeros, load one value per cache line of
//   each X row the run will read, so that all of those misses are in flight together. A CPU core runs
//   the work-items of a subgroup one SIMD instruction at a time and keeps only a couple of rows in
//   flight otherwise; a GPU hides that latency with other warps and skips this.
//
// ACCUMULATE (both entry points): Y += A·X instead of Y = A·X.
//
// Entry point combine. Bindings: 0 params {numSegs, cols, numLong, sink},
//   1 longs (read, (numLong + 1) × (row, first slot)), 2 partial_in (read, slots × cols), 3 y_out (read_write).
// Dispatch: ceil(numLong · cols / WG) workgroups of WG threads (linear, folded); one thread per
//   (long row, column) adds that row's partial slots in slot order.

struct Params { numSegs: u32, cols: u32, numLong: u32, sink: u32 }

//#if VEC4
alias V = vec4<f32>;
/** Elements of V per 64-byte cache line. */
const LINE: u32 = 4u;
//#else
alias V = f32;
const LINE: u32 = 16u;
//#endif

const PARTIAL_FLAG: u32 = 0x80000000u;
/** Accumulators per thread (R ≤ RMAX). */
const RMAX: u32 = 4u;
/** Nonzeros staged per round in the fallback (2 KiB of workgroup memory). */
const TILE: u32 = 256u;

override WG: u32 = 64u;
override T: u32 = 16u;
override R: u32 = 1u;
/** Tests only: take the direct-read branch of the subgroup path. */
override DIRECT: bool = false;
override TOUCH: bool = false;
/** Add into Y instead of overwriting it (SAR sums one remote block after another into one output). */
override ACCUMULATE: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> segs: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> entries: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> x: array<V>;
@group(0) @binding(4) var<storage, read_write> y: array<V>;
@group(0) @binding(5) var<storage, read_write> partial: array<V>;

//#if !SUBGROUPS
var<workgroup> tile: array<vec2<u32>, TILE>;
//#endif

/** Loads X[row, c0 + first_t + r·T + j] for j < width, one value per cache line (see TOUCH). */
fn touch_row(row: u32, c0: u32, first_t: u32, width: u32, cols: u32) -> V {
  var sum = V(0.0);
  for (var r = 0u; r < R; r++) {
    for (var j = 0u; j < width; j += LINE) { sum += x[row * cols + min(c0 + first_t + r * T + j, cols - 1u)]; }
  }
  return sum;
}

/** acc[r] += w · X[row, c0 + t + r·T] for one nonzero b = (row, weight bits). */
fn accumulate(acc: ptr<function, array<V, RMAX>>, b: vec2<u32>, c0: u32, t: u32, cols: u32) {
  let w = bitcast<f32>(b.y);
  let row = b.x * cols;
  for (var r = 0u; r < R; r++) {
    let c = c0 + t + r * T;
    if (c < cols) { (*acc)[r] += w * x[row + c]; }
  }
}

@compute @workgroup_size(WG)
fn aggregate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32
//#if SUBGROUPS
             , @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32
//#endif
             ) {
  let first_seg = (wid.y * nwg.x + wid.x) * (WG / T);
  let t = lid % T;
  let s = first_seg + lid / T;
  let cols = p.cols;
  var start = 0u;
  var end = 0u;
  var out = 0u;
  if (s < p.numSegs) {
    let seg = segs[s];
    start = seg.x;
    out = seg.y;
    end = segs[s + 1u].x;
  }
  let to_partial = (out & PARTIAL_FLAG) != 0u;
  let base = (out & ~PARTIAL_FLAG) * cols;
//#if SUBGROUPS
  // C threads of a group load C nonzeros at once; `first` is the group's first thread in the subgroup.
  let C = min(T, sg_size);
  let lane = sg_lane % C;
  let first = sg_lane - lane;
  let sg_base = lid - sg_lane;
  // (T = 1: a thread's own loads, nothing to share.)
  let linear = !DIRECT && T > 1u && subgroupAll(sg_base == subgroupBroadcastFirst(sg_base) && sg_base % C == 0u);
  // Loop bounds uniform over the subgroup, so every shuffle's source thread is active.
  let sub_len = subgroupMax(end - start);
//#else
  // The workgroup's segments are consecutive: their nonzeros are one range, staged TILE at a time.
  let last_seg = min(first_seg + WG / T, p.numSegs);
  let wg_lo = segs[first_seg].x;
  let wg_hi = segs[last_seg].x;
//#endif
  // Touched values only feed a store that never happens (sink is 0), which keeps the loads alive.
  var touched = V(0.0);
  // Every thread runs the same passes (the subgroup path needs all of them at each shuffle).
  for (var c0 = 0u; c0 < cols; c0 += T * R) {
    var acc: array<V, RMAX>;
    for (var r = 0u; r < R; r++) { acc[r] = V(0.0); }
//#if SUBGROUPS
    if (linear) {
      for (var k0 = 0u; k0 < sub_len; k0 += C) {
        var e = vec2<u32>(0u, 0u);
        if (start + k0 + lane < end) {
          e = entries[start + k0 + lane];
          // This thread's nonzero, over the C columns its C-thread chunk reads.
          if (TOUCH) { touched += touch_row(e.x, c0, t - lane, C, cols); }
        }
        for (var kk = 0u; kk < C; kk++) {
          let b = subgroupShuffle(e, first + kk);
          if (start + k0 + kk < end) { accumulate(&acc, b, c0, t, cols); }
        }
      }
    } else {
      for (var k = start; k < end; k++) { accumulate(&acc, entries[k], c0, t, cols); }
    }
//#else
    for (var lo = wg_lo; lo < wg_hi; lo += TILE) {
      workgroupBarrier();
      for (var i = lid; i < TILE && lo + i < wg_hi; i += WG) { tile[i] = entries[lo + i]; }
      workgroupBarrier();
      let k_hi = min(end, lo + TILE);
      if (TOUCH) {
        for (var k = max(start, lo) + t; k < k_hi; k += T) { touched += touch_row(tile[k - lo].x, c0, 0u, T, cols); }
      }
      for (var k = max(start, lo); k < k_hi; k++) { accumulate(&acc, tile[k - lo], c0, t, cols); }
    }
//#endif
    if (p.sink != 0u) { acc[0] += touched; }
    if (s < p.numSegs) {
      for (var r = 0u; r < R; r++) {
        let c = c0 + t + r * T;
        if (c < cols) {
          if (to_partial) { partial[base + c] = acc[r]; } else if (ACCUMULATE) { y[base + c] += acc[r]; } else { y[base + c] = acc[r]; }
        }
      }
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
  if (ACCUMULATE) { y_out[here.x * cols + c] += acc; } else { y_out[here.x * cols + c] = acc; }
}
