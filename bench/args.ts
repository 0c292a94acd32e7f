// Flag reading for the runnable single benchmarks (bench/spmm-bench.ts, bench/gat-bench.ts), and their
// one way of running: a device from --adapter and --no-subgroups, the result printed, then as JSON.

import type { Gpu } from '../src/gpu/gpu.ts';

export interface BenchArgs {
  value(flag: string): string | undefined;
  number(flag: string): number | undefined;
  has(flag: string): boolean;
}

export function benchArgs(argv: string[]): BenchArgs {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    value,
    number(flag) {
      const v = value(flag);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`${flag} must be a number, got '${v}'`);
      return n;
    },
    has: (flag) => argv.includes(flag),
  };
}

/** Runs one benchmark as a script: the device from the flags, `run`, `print`, then the result as JSON. */
export async function runSingleBench<R>(argv: string[], run: (gpu: Gpu, args: BenchArgs) => Promise<R>, print: (result: R) => void): Promise<void> {
  const args = benchArgs(argv);
  const { createNodeGpu } = await import('../src/node/node-gpu.ts');
  const gpu = await createNodeGpu({ name: args.value('--adapter'), subgroups: !args.has('--no-subgroups') });
  try {
    const result = await run(gpu, args);
    print(result);
    console.log(JSON.stringify(result));
  } finally {
    gpu.destroy();
  }
}
