// Graph attention by blocks (src/tensor/ops/gat-block.ts, SAR's GAT): every kernel against its float64
// mirror, the composition over a partitioned graph's blocks against whole-graph gatAttention's float64
// reference, and finite-difference gradient checks of the composition.
//
// Kernel tolerance (KERNEL_TOL): each kernel is fed the same f32 inputs as its reference (intermediates
// are read back from the GPU and handed to the reference), so only that kernel's own f32 rounding
// shows: sums of ≤ 2·5 terms of magnitude ≲ 10 (F ≤ 5 products of values in [−1, 1]), and exp of
// arguments ≲ 10. Worst error measured on lavapipe: 4.3e-7 absolute (weighted column sums over 40
// rows; grad_dst, where α(dα − c) cancels: 2.3e-7); abs 5e-6 + rel 1e-5 leaves 10× room, while an
// indexing or masking mistake is off by a whole term (≳ 1e-2; seen: dropping the rescale or keying the
// mask by block position fails every case by 4e-2 or more).
// Composition tolerance: TOL·Σ|terms| per element as gat.cases.ts argues (same rounding sources; the
// blocks only change the summation order of the softmax and of the parameter sums).

import type { Gpu } from '../../src/gpu/gpu.ts';
import type { Csr } from '../../src/graph/csr.ts';
import { partitionBlocks, placeNodes } from '../../src/graph/partition-blocks.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { gatAttentionReference, type GatAttentionOptions } from '../../src/tensor/ops/gat-attention.ts';
import {
  addScaledRows,
  gatBlockAttention,
  gatBlockConfig,
  type GatBlockCpu,
  gatBlockFinish,
  gatBlockGradDst,
  gatBlockGradSrc,
  gatBlockGradZ,
  gatBlockReference,
  gatBlockRowDots,
  gatBlockScores,
  gatBlockStats,
  gatBlockStep,
  GatBlockTopology,
  weightedColumnSums,
} from '../../src/tensor/ops/gat-block.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';
import { testGraph, TOL, withinRounding } from './gat-fixtures.ts';

const KERNEL_TOL = { abs: 5e-6, rel: 1e-5 };

/**
 * n destination rows × m source rows; row 0 has no entry in the first block of a pair, row 1 none at
 * all (`empty`), the rest 0..5 random sources. Edge ids: distinct, large, unordered (global ids).
 */
function randomBlock(n: number, m: number, seed: number, idBase: number, skipRows: number[]): GatBlockCpu & Csr {
  const r = randomArray(n * 7, seed, 0, 1);
  const rowPtr = new Int32Array(n + 1);
  const cols: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!skipRows.includes(i)) {
      const row = new Set<number>();
      const count = Math.floor(r[i * 7] * 6);
      for (let k = 0; k < count; k++) row.add(Math.floor(r[i * 7 + 1 + k] * m));
      cols.push(...[...row].sort((a, b) => a - b));
    }
    rowPtr[i + 1] = cols.length;
  }
  const entryIds = Int32Array.from(cols, (_, k) => (idBase + ((k * 7919) % 100003)) >>> 0);
  return { numRows: n, numCols: m, rowPtr, colIdx: Int32Array.from(cols), values: null, entryIds };
}

async function checkKernels(gpu: Gpu, H: number, F: number, p: number, slope: number): Promise<void> {
  const n = 17;
  const m = 11;
  const HF = H * F;
  const options: GatAttentionOptions = { heads: H, dropout: p, seed: 4, step: 6, negativeSlope: slope };
  const cfg = gatBlockConfig(options, HF);
  const local = randomBlock(n, n, 31 + H, 1000, [0, 1]);
  const halo = randomBlock(n, m, 37 + F, 5_000_000, [1]);
  const zOwn = randomArray(n * HF, 1);
  const zHalo = randomArray(m * HF, 2);
  const aSrc = randomArray(HF, 3);
  const aDst = randomArray(HF, 4);
  const g = randomArray(n * HF, 5);
  const ref = gatBlockReference;
  const what = `H=${H} F=${F} p=${p} slope=${slope}`;

  const t = (data: ArrayLike<number>, shape: number[]) => fromArray(gpu, Float32Array.from(data), shape);
  const topo = [GatBlockTopology.fromCsr(gpu, local, local.entryIds, 'local'), GatBlockTopology.fromCsr(gpu, halo, halo.entryIds, 'halo')];
  try {
    // Scores.
    const [sdOwn, sdHalo] = await Promise.all(withScope(() => [gatBlockScores(t(zOwn, [n, HF]), t(aSrc, [HF]), t(aDst, [HF]), cfg), gatBlockScores(t(zHalo, [m, HF]), t(aSrc, [HF]), t(aDst, [HF]), cfg)]).map(read));
    assertClose(sdOwn.subarray(0, 2 * n * H), ref.scores(zOwn, aSrc, aDst, n, options), KERNEL_TOL, `${what}: scores`);
    assertClose(sdHalo.subarray(0, 2 * m * H), ref.scores(zHalo, aSrc, aDst, m, options), KERNEL_TOL, `${what}: halo scores`);
    const pick = (b: number) => (b === 0 ? { block: local, zSrc: zOwn, srcSd: sdOwn, rows: n } : { block: halo, zSrc: zHalo, srcSd: sdHalo, rows: m });

    // Forward steps, one block then the other, each checked from the same inputs.
    const stats = new Float64Array(3 * n * H);
    const acc = new Float64Array(n * HF);
    let gpuStats: Float32Array = new Float32Array(0);
    let gpuAcc: Float32Array = new Float32Array(0);
    for (const [b, first] of [[0, true], [1, false]] as const) {
      const { block, zSrc, srcSd, rows } = pick(b);
      const inStats = Float32Array.from(stats);
      const inAcc = Float32Array.from(acc);
      [gpuStats, gpuAcc] = await Promise.all(
        withScope(() => {
          const st = gatBlockStats(gpu, n, cfg);
          const ac = t(inAcc, [n, HF]);
          if (!first) gpu.upload(st.buffer, inStats);
          gatBlockStep(topo[b], t(zSrc, [rows, HF]), t(srcSd, [srcSd.length]), t(sdOwn, [sdOwn.length]), st, ac, cfg, first);
          return [st, ac];
        }).map(read),
      );
      stats.set(inStats);
      ref.step(block, zSrc, srcSd, sdOwn, stats, acc, options, first);
      assertClose(gpuStats.subarray(0, 3 * n * H), stats, KERNEL_TOL, `${what}: stats after block ${b}`);
      assertClose(gpuAcc, acc, KERNEL_TOL, `${what}: accumulator after block ${b}`);
      // The next step starts from the GPU's values, so errors do not compound across checks.
      stats.set(gpuStats.subarray(0, 3 * n * H));
      acc.set(gpuAcc);
    }
    const out = await read(withScope(() => {
      const ac = t(gpuAcc, [n, HF]);
      gatBlockFinish(t(gpuStats, [gpuStats.length]), ac, cfg);
      return ac;
    }));
    assertClose(out, ref.finish(gpuStats, gpuAcc, n, options), KERNEL_TOL, `${what}: finish`);
    if (out.subarray(HF, 2 * HF).some((v) => v !== 0)) throw new Error(`${what}: a row without entries must give 0`);

    // Backward: c, then each gradient kernel from the same inputs as its reference.
    const [statsC, dd0] = await Promise.all(
      withScope(() => {
        const st = t(gpuStats, [gpuStats.length]);
        return [st, gatBlockRowDots(t(g, [n, HF]), t(out, [n, HF]), st, cfg)];
      }).map(read),
    );
    assertClose(statsC.subarray(2 * n * H, 3 * n * H), ref.rowDots(g, out, n, options), KERNEL_TOL, `${what}: row dots`);
    assertClose(dd0.subarray(0, n * H), new Float64Array(n * H), { abs: 0, rel: 0 }, `${what}: dd starts at 0`);
    let dd: Float32Array = randomArray(n * H, 9);
    for (const b of [0, 1]) {
      const { block, zSrc, srcSd, rows } = pick(b);
      const base = randomArray(rows * HF, 10 + b);
      const [ddOut, ds, dzNew, dzAdded] = await Promise.all(
        withScope(() => {
          const z = t(zSrc, [rows, HF]);
          const gt = t(g, [n, HF]);
          const src = t(srcSd, [srcSd.length]);
          const dst = t(sdOwn, [sdOwn.length]);
          const st = t(statsC, [statsC.length]);
          const ddT = t(dd, [dd.length]);
          gatBlockGradDst(topo[b], z, gt, src, dst, st, ddT, cfg);
          const dzNew = t(new Float32Array(rows * HF), [rows, HF]);
          gatBlockGradZ(topo[b], gt, src, dst, st, dzNew, cfg);
          const dzAdded = t(base, [rows, HF]);
          gatBlockGradZ(topo[b], gt, src, dst, st, dzAdded, cfg, true);
          return [ddT, gatBlockGradSrc(topo[b], z, gt, src, dst, st, cfg), dzNew, dzAdded];
        }).map(read),
      );
      assertClose(ddOut, ref.gradDst(block, zSrc, g, srcSd, sdOwn, statsC, dd, options), KERNEL_TOL, `${what}: grad_dst block ${b}`);
      assertClose(ds.subarray(0, rows * H), ref.gradSrc(block, zSrc, g, srcSd, sdOwn, statsC, options), KERNEL_TOL, `${what}: grad_src block ${b}`);
      assertClose(dzNew, ref.gradZ(block, zSrc, g, srcSd, sdOwn, statsC, options), KERNEL_TOL, `${what}: grad_z block ${b}`);
      assertClose(dzAdded, ref.gradZ(block, zSrc, g, srcSd, sdOwn, statsC, options, base), KERNEL_TOL, `${what}: grad_z accumulating, block ${b}`);
      dd = ddOut;
    }

    // Per-row weights against rows.
    for (const rows of [m, 40]) {
      const w = randomArray(rows * H, 20 + rows);
      const z = randomArray(rows * HF, 21 + rows);
      const into = randomArray(rows * HF, 22 + rows);
      const [added, sums] = await Promise.all(
        withScope(() => {
          const o = t(into, [rows, HF]);
          addScaledRows(o, t(w, [w.length]), t(aSrc, [HF]), cfg);
          return [o, weightedColumnSums(t(w, [w.length]), t(z, [rows, HF]), cfg)];
        }).map(read),
      );
      assertClose(added, ref.addScaled(into, w, aSrc, rows, options), KERNEL_TOL, `${what}: add_scaled ${rows} rows`);
      assertClose(sums, ref.weightedColumnSums(w, z, rows, options), KERNEL_TOL, `${what}: weighted column sums ${rows} rows`);
    }
  } finally {
    for (const b of topo) b.dispose();
  }
}

/**
 * The composition over each part's blocks (halo rows copied on the CPU, as the transport would) summed
 * over parts, against gatAttentionReference on the whole graph: output rows, dz (own rows plus the halo
 * gradients returned to their owners), daSrc and daDst (sums of the parts' shares).
 */
async function checkComposition(gpu: Gpu, csr: Csr, parts: number, H: number, F: number, options: GatAttentionOptions, what: string): Promise<void> {
  const N = csr.numRows;
  const HF = H * F;
  const z = randomArray(N * HF, 11);
  const aSrc = randomArray(HF, 12);
  const aDst = randomArray(HF, 13);
  const g = randomArray(N * HF, 14);
  const r = randomArray(N, 15, 0, 1);
  const placement = placeNodes(Int32Array.from(r, (v) => Math.floor(v * parts)), parts);
  const nodesOf = Array.from({ length: parts }, (_, q) => [...placement.owner.keys()].filter((v) => placement.owner[v] === q));
  const rowsOf = (data: Float32Array, ids: ArrayLike<number>) => {
    const out = new Float32Array(ids.length * HF);
    for (let i = 0; i < ids.length; i++) out.set(data.subarray(ids[i] * HF, (ids[i] + 1) * HF), i * HF);
    return out;
  };
  const out = new Float64Array(N * HF);
  const dz = new Float64Array(N * HF);
  const daSrc = new Float64Array(HF);
  const daDst = new Float64Array(HF);
  for (let p = 0; p < parts; p++) {
    const wb = partitionBlocks(csr, placement, p);
    const own = nodesOf[p];
    const halos = wb.peers.flatMap((b, q) => (b && b.halo.length ? [{ q, b, ids: Array.from(b.halo, (l) => nodesOf[q][l]) }] : []));
    const topo = [GatBlockTopology.fromCsr(gpu, wb.local, wb.localEntryIds, 'local'), ...halos.map((h) => GatBlockTopology.fromCsr(gpu, h.b.block, h.b.entryIds, `halo ${h.q}`))];
    try {
      const results = await Promise.all(
        withScope(() => {
          const zt = fromArray(gpu, rowsOf(z, own), [own.length, HF], { requiresGrad: true });
          const ht = halos.map((h) => fromArray(gpu, rowsOf(z, h.ids), [h.ids.length, HF], { requiresGrad: true }));
          const as = fromArray(gpu, aSrc, [H, F], { requiresGrad: true });
          const ad = fromArray(gpu, aDst, [H, F], { requiresGrad: true });
          const y = gatBlockAttention(topo[0], zt, halos.map((_, k) => ({ block: topo[k + 1], z: ht[k] })), as, ad, options);
          const copy = fromArray(gpu, new Float32Array(y.size), y.shape);
          accumulateGrad(copy, y);
          backward(y, fromArray(gpu, rowsOf(g, own), y.shape), accumulateGrad);
          const grads = [zt, ...ht, as, ad].map((x) => {
            const gx = x.grad!;
            x.grad = null;
            return gx;
          });
          return [copy, ...grads] as Tensor[];
        }).map(read),
      );
      const [o, dOwn, ...rest] = results;
      own.forEach((v, i) => {
        for (let c = 0; c < HF; c++) {
          out[v * HF + c] = o[i * HF + c];
          dz[v * HF + c] += dOwn[i * HF + c];
        }
      });
      halos.forEach((h, k) => h.ids.forEach((v, i) => {
        for (let c = 0; c < HF; c++) dz[v * HF + c] += rest[k][i * HF + c];
      }));
      for (let c = 0; c < HF; c++) {
        daSrc[c] += rest[halos.length][c];
        daDst[c] += rest[halos.length + 1][c];
      }
    } finally {
      for (const b of topo) b.dispose();
    }
  }
  const ref = gatAttentionReference(csr, z, aSrc, aDst, { ...options, heads: H }, g);
  const mag = ref.magnitude!;
  // Tolerance: see the header.
  withinRounding(out, ref.out, mag.out, TOL, `${what}: out`);
  withinRounding(dz, ref.dz!, mag.dz, TOL, `${what}: dz`);
  withinRounding(daSrc, ref.daSrc!, mag.daSrc, TOL, `${what}: daSrc`);
  withinRounding(daDst, ref.daDst!, mag.daDst, TOL, `${what}: daDst`);
}

export const gatBlockCases: KernelCase[] = [];

for (const [H, F, p, slope] of [[2, 4, 0, 0.2], [1, 3, 0.4, 0.2], [3, 5, 0.3, 1]] as const) {
  gatBlockCases.push({
    name: `gat block kernels vs float64, H=${H} F=${F} dropout ${p}`,
    run: (gpu) => checkKernels(gpu, H, F, p, slope),
  });
}

for (const parts of [1, 3]) {
  for (const p of [0, 0.4]) {
    gatBlockCases.push({
      name: `gat blocks over ${parts} part(s) equal whole-graph attention, dropout ${p}`,
      run: (gpu) => checkComposition(gpu, testGraph(61, 17 + parts), parts, 2, 3, { heads: 2, dropout: p, seed: 8, step: 5 }, `${parts} parts p=${p}`),
    });
  }
}

gatBlockCases.push(
  {
    name: 'gat blocks: finite-difference gradients of the composition',
    async run(gpu) {
      // Part 0 of a 3-way split: local block plus two halos, so every input kind gets a gradient.
      const csr = testGraph(29, 23);
      const placement = placeNodes(Int32Array.from({ length: 29 }, (_, v) => v % 3), 3);
      const wb = partitionBlocks(csr, placement, 0);
      const halos = wb.peers.flatMap((b) => (b && b.halo.length ? [b] : []));
      if (halos.length !== 2) throw new Error(`expected two halos, got ${halos.length}`);
      const topo = [GatBlockTopology.fromCsr(gpu, wb.local, wb.localEntryIds, 'local'), ...halos.map((b, k) => GatBlockTopology.fromCsr(gpu, b.block, b.entryIds, `halo ${k}`))];
      try {
        for (const [H, F, p, slope] of [[2, 3, 0.3, 1], [1, 4, 0, 0.2]] as const) {
          const HF = H * F;
          const n = wb.local.numRows;
          const inputs = [
            { data: randomArray(n * HF, 40), shape: [n, HF] },
            ...halos.map((b, k) => ({ data: randomArray(b.halo.length * HF, 41 + k), shape: [b.halo.length, HF] })),
            { data: randomArray(HF, 44), shape: [H, F] },
            { data: randomArray(HF, 45), shape: [H, F] },
          ];
          // Tolerance: gradCheck's default; ε as in gat.cases.ts (1e-3 where the LeakyReLU kink can be
          // crossed, 1e-2 for slope 1, which has none).
          await gradCheck(
            gpu,
            `gat blocks H=${H} F=${F} p=${p} slope=${slope}`,
            inputs,
            ([z, h1, h2, aSrc, aDst]) =>
              gatBlockAttention(topo[0], z, [{ block: topo[1], z: h1 }, { block: topo[2], z: h2 }], aSrc, aDst, { heads: H, dropout: p, seed: 2, step: 1, negativeSlope: slope }),
            { eps: slope === 1 ? 1e-2 : 1e-3 },
          );
        }
      } finally {
        for (const b of topo) b.dispose();
      }
    },
  },
  {
    name: 'gat blocks: mismatched blocks and bad options are refused',
    async run(gpu) {
      const local = randomBlock(5, 5, 1, 0, []);
      const halo = randomBlock(5, 3, 2, 100, []);
      const topo = [GatBlockTopology.fromCsr(gpu, local, local.entryIds, 'local'), GatBlockTopology.fromCsr(gpu, halo, halo.entryIds, 'halo')];
      try {
        withScope(() => {
          const z = fromArray(gpu, randomArray(5 * 4, 1), [5, 4]);
          const a = fromArray(gpu, randomArray(4, 2), [2, 2]);
          const wrongHalo = fromArray(gpu, randomArray(4 * 4, 3), [4, 4]);
          assertThrows(() => gatBlockAttention(topo[0], z, [{ block: topo[1], z: wrongHalo }], a, a, { heads: 2 }), /must be 5×4/, 'halo rows ≠ block columns');
          assertThrows(() => gatBlockAttention(topo[1], z, [], a, a, { heads: 2 }), /must be 5×5/, 'local block over other rows');
          assertThrows(() => gatBlockAttention(topo[0], z, [], a, a, { heads: 3 }), /do not split into 3 heads/, 'heads not dividing the width');
          assertThrows(() => gatBlockAttention(topo[0], z, [], a, a, { heads: 2, dropout: 1.5 }), /dropout must be in \[0, 1\]/, 'dropout out of range');
        });
        assertThrows(() => GatBlockTopology.fromCsr(gpu, local, Int32Array.from(local.entryIds).subarray(1), 'short'), /entry ids for/, 'entry ids too short');
      } finally {
        for (const b of topo) b.dispose();
      }
    },
  },
);
