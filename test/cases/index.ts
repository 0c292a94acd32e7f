// The one list of kernel cases, run by node:test on Dawn and by Playwright in Chromium.

import type { KernelCase } from './harness.ts';
import { matmulCases } from './matmul.cases.ts';

export function allKernelCases(): KernelCase[] {
  return [...matmulCases];
}
