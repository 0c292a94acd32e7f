// One worker's view of a partitioned graph, as SAR needs it: the rows of the adjacency it owns, cut
// by the owner of each column into a local block and one block per peer. A peer block's columns are
// compacted to the peer rows that really appear (its "halo"), so the rows fetched from a peer in a
// round are exactly the ones this worker's aggregation reads, and nothing else.
//
// Numbering: worker p's local ids 0..n_p−1 are its nodes in ascending global id order, so a block's
// columns stay ascending and the weights are the global matrix's own (normalised with global degrees).

import type { Csr } from './csr.ts';

export interface PeerBlock {
  /** n_p × halo.length, columns index `halo`. */
  block: Csr;
  /** Per stored entry of `block`: its index in the global matrix (keys per-edge randomness). */
  entryIds: Int32Array<ArrayBuffer>;
  /** The peer's local ids of the rows this worker reads from it, ascending. */
  halo: Int32Array<ArrayBuffer>;
}

export interface WorkerBlocks {
  rank: number;
  parts: number;
  /** Global ids of this worker's nodes, ascending (local id = position). */
  nodes: Int32Array<ArrayBuffer>;
  /** n_p × n_p: entries whose column this worker owns. */
  local: Csr;
  /** Per stored entry of `local`: its index in the global matrix. */
  localEntryIds: Int32Array<ArrayBuffer>;
  /** Per peer (null at this worker's own rank): the block of entries whose column that peer owns. */
  peers: (PeerBlock | null)[];
  /** Per peer: this worker's local ids that the peer reads (the peer's halo from us), ascending. */
  sendTo: (Int32Array<ArrayBuffer> | null)[];
}

/** Where every node lives: its part and its local id there. */
export interface NodePlacement {
  parts: number;
  owner: Int32Array;
  localId: Int32Array<ArrayBuffer>;
  sizes: Int32Array<ArrayBuffer>;
}

/** The global ids of the nodes worker `rank` owns, ascending (its local row order). */
export function ownedNodes(placement: NodePlacement, rank: number): Int32Array {
  const nodes = new Int32Array(placement.sizes[rank]);
  for (let v = 0, k = 0; v < placement.owner.length; v++) if (placement.owner[v] === rank) nodes[k++] = v;
  return nodes;
}

export function placeNodes(assignment: Int32Array, parts: number): NodePlacement {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`placeNodes: parts must be a positive integer, got ${parts}`);
  const sizes = new Int32Array(parts);
  const localId = new Int32Array(assignment.length);
  for (let v = 0; v < assignment.length; v++) {
    const q = assignment[v];
    if (!Number.isInteger(q) || q < 0 || q >= parts) throw new RangeError(`placeNodes: node ${v} is assigned to part ${q}, outside 0..${parts - 1}`);
    localId[v] = sizes[q]++;
  }
  return { parts, owner: assignment, localId, sizes };
}

/** Worker `rank`'s blocks of `csr` (rows = destinations, numRows = numCols = nodes). */
export function partitionBlocks(csr: Csr, placement: NodePlacement, rank: number): WorkerBlocks {
  const { parts, owner, localId, sizes } = placement;
  if (csr.numRows !== owner.length || csr.numCols !== owner.length) {
    throw new RangeError(`partitionBlocks: a ${csr.numRows}×${csr.numCols} matrix for ${owner.length} placed nodes`);
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= parts) throw new RangeError(`partitionBlocks: rank ${rank} outside 0..${parts - 1}`);
  const n = sizes[rank];
  const nodes = new Int32Array(n);
  for (let v = 0, k = 0; v < owner.length; v++) if (owner[v] === rank) nodes[k++] = v;

  // Halo marks per peer: which of the peer's local ids our rows read.
  const reads: (Uint8Array | null)[] = Array.from({ length: parts }, (_, q) => (q === rank ? null : new Uint8Array(sizes[q])));
  const counts = new Int32Array(parts * (n + 1));
  for (let i = 0; i < n; i++) {
    const row = nodes[i];
    for (let k = csr.rowPtr[row]; k < csr.rowPtr[row + 1]; k++) {
      const j = csr.colIdx[k];
      const q = owner[j];
      counts[q * (n + 1) + i + 1]++;
      if (q !== rank) reads[q]![localId[j]] = 1;
    }
  }
  const halos = reads.map((marks) => (marks ? indicesOf(marks) : null));
  const compact = reads.map((marks, q) => {
    if (!marks) return null;
    const map = new Int32Array(sizes[q]).fill(-1);
    halos[q]!.forEach((l, c) => (map[l] = c));
    return map;
  });

  const blocks = Array.from({ length: parts }, (_, q): Csr => {
    const rowPtr = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) rowPtr[i + 1] = rowPtr[i] + counts[q * (n + 1) + i + 1];
    const nnz = rowPtr[n];
    return {
      numRows: n,
      numCols: q === rank ? n : halos[q]!.length,
      rowPtr,
      colIdx: new Int32Array(nnz),
      values: csr.values ? new Float32Array(nnz) : null,
    };
  });
  const entryIds = blocks.map((b) => new Int32Array(b.rowPtr[n]));
  const fill = blocks.map((b) => b.rowPtr.slice(0, n));
  for (let i = 0; i < n; i++) {
    const row = nodes[i];
    for (let k = csr.rowPtr[row]; k < csr.rowPtr[row + 1]; k++) {
      const j = csr.colIdx[k];
      const q = owner[j];
      const at = fill[q][i]++;
      blocks[q].colIdx[at] = q === rank ? localId[j] : compact[q]![localId[j]];
      if (csr.values) blocks[q].values![at] = csr.values[k];
      entryIds[q][at] = k;
    }
  }

  return {
    rank,
    parts,
    nodes,
    local: blocks[rank],
    localEntryIds: entryIds[rank],
    peers: blocks.map((block, q) => (q === rank ? null : { block, entryIds: entryIds[q], halo: halos[q]! })),
    sendTo: sendLists(csr, placement, rank),
  };
}

/** For each peer q, the local ids of our nodes that q's rows read (q's halo from us). */
function sendLists(csr: Csr, placement: NodePlacement, rank: number): (Int32Array<ArrayBuffer> | null)[] {
  const { parts, owner, localId, sizes } = placement;
  const marks = Array.from({ length: parts }, (_, q) => (q === rank ? null : new Uint8Array(sizes[rank])));
  for (let row = 0; row < csr.numRows; row++) {
    const q = owner[row];
    if (q === rank) continue;
    const m = marks[q]!;
    for (let k = csr.rowPtr[row]; k < csr.rowPtr[row + 1]; k++) {
      const j = csr.colIdx[k];
      if (owner[j] === rank) m[localId[j]] = 1;
    }
  }
  return marks.map((m) => (m ? indicesOf(m) : null));
}

function indicesOf(marks: Uint8Array): Int32Array<ArrayBuffer> {
  let count = 0;
  for (let i = 0; i < marks.length; i++) count += marks[i];
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < marks.length; i++) if (marks[i]) out[k++] = i;
  return out;
}
