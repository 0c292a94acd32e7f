// TGN/TGAT time encoding φ(Δt)[i, c] = cos(Δt[i]·ω[c] + b[c]) and its backward, f32.
// Prepend shaders/grid.wgsl. n events, d encoding columns; every entry point: params {n, d, _, _} at
// binding 0. Let x[i, c] = Δt[i]·ω[c] + b[c] and s[i, c] = −sin(x[i, c])·g[i, c] (the gradient w.r.t. x).
//   encode        (n·d items):  1 dt (n), 2 omega (d), 3 bias (d), 4 out (rw, n × d)     out = cos(x)
//   grad_products (n·d items):  1 dt, 2 omega, 3 bias, 4 g (n × d), 5 pw (rw, n × d), 6 pb (rw, n × d)
//                               pw = s·Δt[i], pb = s; dω and db are their column sums, taken by
//                               reduce.wgsl in a fixed order (no float atomics)
//   grad_dt       (n items):    1 dt, 2 omega, 3 bias, 4 g, 5 ddt (rw, n)   ddt[i] = Σ_c s[i, c]·ω[c], c ascending
// Dispatch: grid.wgsl's ceil(items / 1024) workgroups of 256.
//
// sin and cos are evaluated here rather than with the builtins: WGSL bounds the builtins' error only to
// 2⁻¹¹ on [−π, π] and not at all outside, and implementations differ (SwiftShader's cos is off by 4e-5),
// while TGN's frequencies make |x| reach thousands. Reduction by π/2 then Cephes' single-precision
// polynomials on [−π/4, π/4] give ~1 ulp on every platform.

struct Params { n: u32, d: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dt: array<f32>;
@group(0) @binding(2) var<storage, read> omega: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;

// x − k·π/2 in two parts (Cody–Waite): PIO2_HI = 1.5703125 = 201/128 has 8 significant bits, so k·PIO2_HI
// and its subtraction from x are exact for |k| < 2¹⁶ (|x| < 10⁵); what remains (rounding of k·PIO2_LO and
// of PIO2_LO itself, ≈ |x|·3·10⁻¹¹) is 2000× below the rounding of x itself (|x|·6·10⁻⁸), which also
// dominates beyond that range. Measured on lavapipe: ≤ 1.6 ulp for |x| ≤ 100, 1.1e-6 at |x| = 10⁵.
const PIO2_HI: f32 = 1.5703125;
const PIO2_LO: f32 = 4.8382679489661923e-4;
const TWO_OVER_PI: f32 = 0.63661977236758134;

/** (sin x, cos x). */
fn sin_cos(x: f32) -> vec2<f32> {
  let k = round(x * TWO_OVER_PI);
  let y = (x - k * PIO2_HI) - k * PIO2_LO;
  let z = y * y;
  let s = y + y * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
  let c = 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
  // x = y + q·π/2: rotate (sin y, cos y) by the quadrant q = k mod 4 (two's complement: −1 → 3).
  let q = u32(i32(k)) & 3u;
  var r = vec2<f32>(s, c);
  if (q == 1u) { r = vec2<f32>(c, -s); }
  if (q == 2u) { r = vec2<f32>(-s, -c); }
  if (q == 3u) { r = vec2<f32>(-c, s); }
  return r;
}

fn angle(i: u32, c: u32) -> f32 {
  return dt[i] * omega[c] + bias[c];
}

@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn encode(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let e = grid_index(wid, nwg, lid, j);
    if (e >= p.n * p.d) { return; }
    let i = e / p.d;
    out[e] = sin_cos(angle(i, e - i * p.d)).y;
  }
}

@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> pw: array<f32>;
@group(0) @binding(6) var<storage, read_write> pb: array<f32>;

@compute @workgroup_size(256)
fn grad_products(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let e = grid_index(wid, nwg, lid, j);
    if (e >= p.n * p.d) { return; }
    let i = e / p.d;
    let s = -sin_cos(angle(i, e - i * p.d)).x * g[e];
    pw[e] = s * dt[i];
    pb[e] = s;
  }
}

@group(0) @binding(5) var<storage, read_write> ddt: array<f32>;

@compute @workgroup_size(256)
fn grad_dt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var j = 0u; j < ELEMS; j++) {
    let i = grid_index(wid, nwg, lid, j);
    if (i >= p.n) { return; }
    var acc = 0.0;
    for (var c = 0u; c < p.d; c++) { acc += -sin_cos(angle(i, c)).x * g[i * p.d + c] * omega[c]; }
    ddt[i] = acc;
  }
}
