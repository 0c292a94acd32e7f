// TGN's per-node state as plain host arrays, and the one rule for landing a batch's writes into them
// (HostNodeMemory's landed rows, and a DistTGL memory owner's table): memory moves forward only — a row
// absorbed from an older mailbox than what already landed is dropped — while the message is always the
// newest and is kept.

export interface HostRows {
  memory: Float32Array;
  mail: Float32Array;
  memoryTime: Float64Array;
  mailTime: Float64Array;
}

export function hostRows(numNodes: number, memoryDim: number, mailDim: number): HostRows {
  return { memory: new Float32Array(numNodes * memoryDim), mail: new Float32Array(numNodes * mailDim), memoryTime: new Float64Array(numNodes), mailTime: new Float64Array(numNodes) };
}

/** Lands writes for `nodes` in order (later entries win); `values` holds each entry's [memory ‖ mail] row. */
export function landRows(rows: HostRows, memoryDim: number, mailDim: number, nodes: ArrayLike<number>, values: Float32Array, memoryTimes: ArrayLike<number>, mailTimes: ArrayLike<number>): void {
  const d = memoryDim;
  const m = mailDim;
  const width = d + m;
  for (let j = 0; j < nodes.length; j++) {
    const v = nodes[j];
    if (memoryTimes[j] >= rows.memoryTime[v]) {
      rows.memory.set(values.subarray(j * width, j * width + d), v * d);
      rows.memoryTime[v] = memoryTimes[j];
    }
    rows.mail.set(values.subarray(j * width + d, (j + 1) * width), v * m);
    rows.mailTime[v] = mailTimes[j];
  }
}

export function resetRows(rows: HostRows): void {
  for (const a of [rows.memory, rows.mail, rows.memoryTime, rows.mailTime]) a.fill(0);
}
