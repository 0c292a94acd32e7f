// The uniforms and kernel lookup shared by the fused and unfused graph-attention ops, in the order of
// the Params struct in shaders/gat-common.wgsl.

import random from '../../../shaders/random.wgsl?raw';
import common from '../../../shaders/gat-common.wgsl?raw';
import functions from '../../../shaders/gat-functions.wgsl?raw';
import type { Gpu } from '../../gpu/gpu.ts';
import { params, type Params } from '../../gpu/params.ts';
import { dropoutScale } from './dropout.ts';

/** Threads per workgroup of every attention kernel. */
export const GAT_WG = 64;

export interface GatUniforms {
  n: number;
  heads: number;
  F: number;
  /** Edges (nonzeros) of the graph. */
  nnz: number;
  /** rngPrefix(seed, stream, step) of the attention-dropout masks (0 without dropout). */
  prefix?: number;
  p?: number;
  slope?: number;
}

export function gatUniforms(u: GatUniforms): Params {
  const p = u.p ?? 0;
  return params()
    .u32(u.n)
    .u32(u.heads)
    .u32(u.F)
    .u32(u.prefix ?? 0)
    .f32(p)
    .f32(dropoutScale(p))
    .f32(u.slope ?? 0.2)
    .u32(u.nnz);
}

/** The entry point `entryPoint` of an attention shader (random.wgsl, gat-functions.wgsl and gat-common.wgsl prepended). */
export function gatKernel(gpu: Gpu, name: string, source: string, entryPoint: string): GPUComputePipeline {
  return gpu.kernel({ name, source: [random, functions, common, source], entryPoint, constants: { WG: GAT_WG } });
}
