// Data-parallel gradient sums, for every engine whose workers hold replicas of one model (SAR's workers,
// DistTGL's trainers): every parameter's gradient packed into one buffer, read back once, summed by one
// ring all-reduce (the same bits on every worker, so the replicas' steps stay identical), uploaded back.

import type { Gpu } from '../gpu/gpu.ts';
import { allReduceSum } from '../dist/collectives.ts';
import type { Transport } from '../dist/transport.ts';
import { empty, zeros } from '../tensor/create.ts';
import { keep } from '../tensor/scope.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * Replaces each parameter's gradient by its sum over the transport's workers (a missing gradient counts
 * as zeros), divided by `divisor` when it is more than 1. Every worker must call it with the same
 * parameters in the same order. Alone, it does nothing.
 */
export async function allReduceGradients(gpu: Gpu, transport: Transport, params: Tensor[], tagId: number, divisor = 1): Promise<void> {
  if (transport.size === 1) return;
  for (const p of params) if (!p.grad) p.grad = keep(zeros(gpu, p.shape, 'f32', `grad:${p.label}`));
  const total = params.reduce((s, p) => s + p.size, 0);
  const packed = empty(gpu, [total], 'f32', 'grad_pack');
  let offset = 0;
  for (const p of params) {
    gpu.encoder.copy(p.grad!.buffer, 0, packed.buffer, offset * 4, p.byteLength);
    offset += p.size;
  }
  const summed = await allReduceSum(transport, new Float32Array(await gpu.read(packed.buffer, 0, total * 4)), tagId);
  packed.dispose();
  if (divisor > 1) for (let q = 0; q < summed.length; q++) summed[q] /= divisor;
  offset = 0;
  for (const p of params) {
    gpu.overwrite(p.grad!.buffer, summed.subarray(offset, offset + p.size));
    offset += p.size;
  }
}
