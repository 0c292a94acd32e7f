// Temporal graph attention (TGN's graph-attention embedding, one layer): each target attends over its k
// sampled neighbours with H heads, masked where a target has fewer than k neighbours. Projections
// (q = W_q·[memory ‖ φ(0)], k, v = W·[neighbour ‖ edge ‖ φ(Δt)]) and the output MLP are matmuls outside.
// Forward and backward are one kernel each, one thread per (target, head) (shaders/temporal-attention.wgsl).

import source from '../../../shaders/temporal-attention.wgsl?raw';
import { params, type Params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';

const WG = 64;

interface Dims {
  B: number;
  H: number;
  d: number;
  k: number;
}

function uniforms(s: Dims): Params {
  return params().u32(s.B).u32(s.H).u32(s.d).u32(s.k).f32(1 / Math.sqrt(s.d)).u32(0).u32(0).u32(0);
}

function run(x: Tensor, entryPoint: string, s: Dims, maskF32: boolean, buffers: GPUBuffer[]): void {
  const items = s.B * s.H;
  if (items === 0 || s.d === 0) return;
  const kernel = x.gpu.kernel({ name: 'temporal-attention', source, entryPoint, defines: { MASK_F32: maskF32 } });
  x.gpu.dispatch(kernel, uniforms(s), buffers, Math.ceil(items / WG));
}

function dims(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, heads: number): Dims {
  const what = 'temporalAttention';
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.dtype !== 'f32') throw new TypeError(`${what}: ${name} must be f32, got ${t}`);
  }
  if (!Number.isInteger(heads) || heads < 1) throw new RangeError(`${what}: heads must be an integer ≥ 1, got ${heads}`);
  if (q.shape.length !== 2 || q.cols % heads !== 0 || q.cols === 0) {
    throw new RangeError(`${what}: q ${q} must be [B, H·d] with H = ${heads} heads of d ≥ 1 columns`);
  }
  const B = q.rows;
  if (mask.shape.length !== 2 || mask.rows !== B) throw new RangeError(`${what}: mask ${mask} must be [${B}, k] (one row per query)`);
  const kn = mask.cols;
  const HD = q.cols;
  for (const [name, t] of [['k', k], ['v', v]] as const) {
    const ok = (t.shape.length === 3 && t.shape[0] === B && t.shape[1] === kn && t.shape[2] === HD) || (t.shape.length === 2 && t.rows === B * kn && t.cols === HD);
    if (!ok) throw new RangeError(`${what}: ${name} ${t} must be [${B}, ${kn}, ${HD}] (or [${B * kn}, ${HD}]) for q ${q} and mask ${mask}`);
  }
  return { B, H: heads, d: HD / heads, k: kn };
}

/**
 * out[b, h] = Σ_j softmax_j(⟨q_bh, k_bjh⟩/√d over valid j)·v_bjh for q [B, H·d], k and v [B, k, H·d]
 * (or [B·k, H·d]), mask [B, k] (u32/i32 or f32; nonzero = valid neighbour) → [B, H·d]; head h is
 * columns [h·d, (h+1)·d). Targets with no valid neighbour get zeros. Differentiable in q, k and v.
 */
export function temporalAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, heads: number): Tensor {
  const s = dims(q, k, v, mask, heads);
  const maskF32 = mask.dtype === 'f32';
  const out = empty(q.gpu, [s.B, s.H * s.d], 'f32', 'temporal attention');
  run(q, 'forward', s, maskF32, [q.buffer, k.buffer, v.buffer, mask.buffer, out.buffer]);
  return record('temporalAttention', [q, k, v], out, (g, needs) => {
    const dq = empty(q.gpu, q.shape, 'f32', 'temporal attention dq');
    const dk = empty(q.gpu, k.shape, 'f32', 'temporal attention dk');
    const dv = empty(q.gpu, v.shape, 'f32', 'temporal attention dv');
    run(q, 'backward', s, maskF32, [q.buffer, k.buffer, v.buffer, mask.buffer, g.buffer, dq.buffer, dk.buffer, dv.buffer]);
    // One kernel writes all three; those not wanted go back to the pool.
    return [dq, dk, dv].map((t, i) => {
      if (needs[i]) return t;
      t.dispose();
      return null;
    });
  });
}

/** float64 reference: output and the gradients of Σ g·out. Arrays row-major as the op's tensors. */
export function temporalAttentionReference(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  mask: ArrayLike<number>,
  B: number,
  kn: number,
  H: number,
  d: number,
  g?: ArrayLike<number>,
): { out: Float64Array; dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const HD = H * d;
  const out = new Float64Array(B * HD);
  const dq = new Float64Array(B * HD);
  const dk = new Float64Array(B * kn * HD);
  const dv = new Float64Array(B * kn * HD);
  const scale = 1 / Math.sqrt(d);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qo = b * HD + h * d;
      const row = (j: number) => (b * kn + j) * HD + h * d;
      const valid = Array.from({ length: kn }, (_, j) => mask[b * kn + j] !== 0);
      const s = valid.map((ok, j) => {
        if (!ok) return -Infinity;
        let acc = 0;
        for (let c = 0; c < d; c++) acc += q[qo + c] * k[row(j) + c];
        return acc * scale;
      });
      if (!valid.some(Boolean)) continue;
      const mx = Math.max(...s);
      const e = s.map((x) => Math.exp(x - mx));
      const sum = e.reduce((a, x) => a + x, 0);
      const p = e.map((x) => x / sum);
      for (let j = 0; j < kn; j++) for (let c = 0; c < d; c++) out[qo + c] += p[j] * v[row(j) + c];
      if (!g) continue;
      const dp = p.map((_, j) => {
        let acc = 0;
        for (let c = 0; c < d; c++) acc += g[qo + c] * v[row(j) + c];
        return acc;
      });
      const D = p.reduce((a, pj, j) => a + pj * dp[j], 0);
      for (let j = 0; j < kn; j++) {
        const ds = p[j] * (dp[j] - D) * scale;
        for (let c = 0; c < d; c++) {
          dv[row(j) + c] = p[j] * g[qo + c];
          dk[row(j) + c] = ds * q[qo + c];
          dq[qo + c] += ds * k[row(j) + c];
        }
      }
    }
  }
  return { out, dq, dk, dv };
}
