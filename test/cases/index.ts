// The one list of kernel cases, run by node:test on Dawn and by Playwright in Chromium.

import { activationCases } from './activation.cases.ts';
import { binaryCrossEntropyCases } from './binary-cross-entropy.cases.ts';
import { crossEntropyCases } from './cross-entropy.cases.ts';
import { dropoutCases } from './dropout.cases.ts';
import { gatCases } from './gat.cases.ts';
import { gatBlockCases } from './gat-block.cases.ts';
import { gatUnfusedCases } from './gat-unfused.cases.ts';
import { gruCases } from './gru.cases.ts';
import type { KernelCase } from './harness.ts';
import { layerNormCases } from './layer-norm.cases.ts';
import { layoutCases } from './layout.cases.ts';
import { matmulCases } from './matmul.cases.ts';
import { memoryCases } from './memory.cases.ts';
import { optimizerCases } from './optimizer.cases.ts';
import { rowsCases } from './rows.cases.ts';
import { spmmCases } from './spmm.cases.ts';
import { temporalAttentionCases } from './temporal-attention.cases.ts';
import { timeEncodingCases } from './time-encoding.cases.ts';

export function allKernelCases(): KernelCase[] {
  return [...matmulCases, ...activationCases, ...dropoutCases, ...crossEntropyCases, ...binaryCrossEntropyCases, ...optimizerCases, ...spmmCases, ...rowsCases, ...layoutCases, ...gatCases, ...gatUnfusedCases, ...gatBlockCases, ...timeEncodingCases, ...gruCases, ...memoryCases, ...temporalAttentionCases, ...layerNormCases];
}
