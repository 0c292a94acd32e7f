// Seeded sampling helpers shared by the synthetic graph generators.

/** Walker/Vose alias table over nodes[from..to) drawing each node ∝ weights[node]: O(1) per draw. */
export class AliasSampler {
  private readonly probability: Float64Array;
  private readonly id: Int32Array;
  private readonly aliasId: Int32Array;

  constructor(weights: Float64Array, nodes: Int32Array, from: number, to: number) {
    const size = to - from;
    this.id = nodes.slice(from, to);
    this.aliasId = this.id.slice();
    this.probability = new Float64Array(size).fill(1);
    let total = 0;
    for (let i = 0; i < size; i++) total += weights[this.id[i]];
    const scaled = new Float64Array(size);
    const small = new Int32Array(size);
    const large = new Int32Array(size);
    let numSmall = 0;
    let numLarge = 0;
    for (let i = 0; i < size; i++) {
      scaled[i] = (weights[this.id[i]] * size) / total;
      if (scaled[i] < 1) small[numSmall++] = i;
      else large[numLarge++] = i;
    }
    while (numSmall > 0 && numLarge > 0) {
      const less = small[--numSmall];
      const more = large[--numLarge];
      this.probability[less] = scaled[less];
      this.aliasId[less] = this.id[more];
      scaled[more] = scaled[more] + scaled[less] - 1;
      if (scaled[more] < 1) small[numSmall++] = more;
      else large[numLarge++] = more;
    }
    // Whatever is left is 1 up to rounding: keep probability 1.
  }

  sample(random: () => number): number {
    const column = Math.floor(random() * this.id.length);
    return random() < this.probability[column] ? this.id[column] : this.aliasId[column];
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function shuffledIds(n: number, random: () => number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = ids[i];
    ids[i] = ids[j];
    ids[j] = t;
  }
  return ids;
}

/** Throws unless `seed` is an integer (any sign: generators take it modulo 2³²). */
export function checkSeed(caller: string, seed: number): void {
  if (!Number.isInteger(seed)) throw new Error(`${caller}: seed must be an integer, got ${seed}`);
}

/** Throws unless value is a non-negative 32-bit integer. */
export function checkCount(caller: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new Error(`${caller}: ${name} must be a non-negative 32-bit integer, got ${value}`);
  }
}
