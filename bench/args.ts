// Flag reading for the runnable single benchmarks (bench/spmm-bench.ts, bench/gat-bench.ts).

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
