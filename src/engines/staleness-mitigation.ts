// MSPipe-style staleness mitigation. A node whose memory is stale (an earlier batch's write for it has
// not landed) misses its latest interaction; its most recent neighbours whose memory is fresh carry
// that recent activity. The rule: the stale row s_v is replaced by
//     λ·s_v + (1 − λ)·mean{ s_u : u among v's sampled most recent neighbours, u fresh }
// (neighbours counted with multiplicity: a partner met twice weighs twice); a stale node with no fresh
// neighbour, or one that is no root of the batch (its neighbours were not sampled), keeps s_v. Applied
// to the fetched memory before the GRU absorbs the mailbox, as one sparse matrix M (identity on fresh
// rows), so Y = M·S costs one SpMM and nothing when no row is stale.

import type { Csr } from '../graph/csr.ts';

/** Default weight λ of the node's own (stale) memory. */
export const STALE_SELF_WEIGHT = 0.5;

export interface BlendInputs {
  /** Per distinct node (row of the fetched memory): stale or not. */
  stale: Uint8Array;
  /** Number of real rows (the rest is padding and stays identity). */
  rows: number;
  /** Per root slot: its row. */
  rootRows: Int32Array;
  /** Per root slot × k: the neighbour's row, with `mask` 1 where the slot holds a neighbour. */
  neighbourRows: Int32Array;
  mask: Float32Array;
  k: number;
  selfWeight: number;
}

/** The blend matrix M as CSR ([rows × rows] square over the padded row count), or null when nothing is stale. */
export function stalenessBlend(input: BlendInputs, paddedRows: number): Csr | null {
  const { stale, rows, rootRows, neighbourRows, mask, k, selfWeight } = input;
  if (!(selfWeight >= 0 && selfWeight <= 1)) throw new RangeError(`staleness mitigation: the self weight λ must be in [0, 1], got ${selfWeight}`);
  let any = false;
  for (let p = 0; p < rows; p++) if (stale[p]) any = true;
  if (!any) return null;
  // Each stale row's fresh neighbours, from its first occurrence as a root.
  const fresh = new Map<number, number[]>();
  for (let r = 0; r < rootRows.length; r++) {
    const p = rootRows[r];
    if (!stale[p] || fresh.has(p)) continue;
    const list: number[] = [];
    for (let j = 0; j < k; j++) {
      const q = neighbourRows[r * k + j];
      if (mask[r * k + j] && q !== p && !stale[q]) list.push(q);
    }
    fresh.set(p, list);
  }
  const rowPtr = new Int32Array(paddedRows + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let p = 0; p < paddedRows; p++) {
    const list = p < rows && stale[p] ? fresh.get(p) : undefined;
    if (list?.length) {
      // One entry per column (a CSR row lists each column once), in column order.
      const weights = new Map<number, number>([[p, selfWeight]]);
      for (const q of list) weights.set(q, (weights.get(q) ?? 0) + (1 - selfWeight) / list.length);
      for (const q of [...weights.keys()].sort((a, b) => a - b)) {
        colIdx.push(q);
        values.push(weights.get(q)!);
      }
    } else {
      colIdx.push(p);
      values.push(1);
    }
    rowPtr[p + 1] = colIdx.length;
  }
  return { numRows: paddedRows, numCols: paddedRows, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}
