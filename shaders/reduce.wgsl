// Column sums of a rows×cols matrix, in a fixed order (deterministic, no atomics).
// Entry point column_partials. Bindings: 0 params {rows, cols, rowsPerChunk, _},
//   1 x (read, rows×cols), 2 partial (read_write, chunks×cols).
// Dispatch: (ceil(cols / 64), chunks) workgroups of 64 threads; thread c of workgroup (bx, chunk) sums
// column bx·64 + c over rows [chunk·rowsPerChunk, +rowsPerChunk). Reading a row is coalesced across
// threads. Applied twice (matrix → ≤ 1024 partial rows → 1 row) for any size.

struct Params { rows: u32, cols: u32, rowsPerChunk: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn column_partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wid.x * 64u + lid;
  if (col >= p.cols) { return; }
  let start = wid.y * p.rowsPerChunk;
  let end = min(start + p.rowsPerChunk, p.rows);
  var sum = 0.0;
  for (var r = start; r < end; r++) { sum += x[r * p.cols + col]; }
  partial[wid.y * p.cols + col] = sum;
}
