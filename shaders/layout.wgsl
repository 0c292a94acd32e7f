// Column blocks of row-major matrices, f32: how a concatenation [a ‖ b ‖ …] is assembled and taken apart.
//   put:  out[r, offset + c] = x[r, c]        (x: rows × width; out: rows × cols)
//   take: out[r, c] = x[r, offset + c]        (x: rows × cols;  out: rows × width)
// Bindings: 0 params {n = rows·width, width, cols, offset}, 1 x (read), 2 out (read_write).
// Dispatch: see shaders/grid.wgsl (prepended): ceil(n / 1024) workgroups of 256, one element each.

struct Params { n: u32, width: u32, cols: u32, offset: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn put(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= p.n) { return; }
    let r = i / p.width;
    out[r * p.cols + p.offset + (i - r * p.width)] = x[i];
  }
}

@compute @workgroup_size(256)
fn take(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= p.n) { return; }
    let r = i / p.width;
    out[i] = x[r * p.cols + p.offset + (i - r * p.width)];
  }
}
