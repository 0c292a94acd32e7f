// Shared by the elementwise kernels (prepended as a snippet): each thread handles ELEMS elements
// spaced 256 apart inside its workgroup's block of 256·ELEMS, so neighbouring threads touch
// neighbouring elements (coalesced on GPUs, contiguous SIMD lanes on CPU adapters) and per-thread
// overhead is amortised (one element per thread ran ~7× below copy speed on lavapipe).
// Dispatch: ceil(n / (256·ELEMS)) workgroups of 256, folded into (x, y) past 65535.

const ELEMS: u32 = 4u;

/** Index of element j (0 ≤ j < ELEMS) of this thread. Monotonic in j, so `i ≥ n` ends the thread. */
fn grid_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, j: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * (256u * ELEMS) + j * 256u + lid;
}
