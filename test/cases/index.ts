// The one list of kernel cases, run by node:test on Dawn and by Playwright in Chromium.

import { activationCases } from './activation.cases.ts';
import { crossEntropyCases } from './cross-entropy.cases.ts';
import { dropoutCases } from './dropout.cases.ts';
import { gatCases } from './gat.cases.ts';
import { gatBlockCases } from './gat-block.cases.ts';
import { gatUnfusedCases } from './gat-unfused.cases.ts';
import type { KernelCase } from './harness.ts';
import { matmulCases } from './matmul.cases.ts';
import { optimizerCases } from './optimizer.cases.ts';
import { rowsCases } from './rows.cases.ts';
import { spmmCases } from './spmm.cases.ts';

export function allKernelCases(): KernelCase[] {
  return [...matmulCases, ...activationCases, ...dropoutCases, ...crossEntropyCases, ...optimizerCases, ...spmmCases, ...rowsCases, ...gatCases, ...gatUnfusedCases, ...gatBlockCases];
}
