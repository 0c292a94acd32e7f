// torch.nn.Dropout as a block: inverted dropout while training, the identity in eval mode. Masks are
// keyed by (seed, a stream named by this module's path, step, global row id, column), so one device and
// N SAR workers drop exactly the same elements, and the backward regenerates the mask instead of storing it.

import { dropout } from '../tensor/ops/dropout.ts';
import { RNG_STREAM } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph, RandomKey } from './graph-input.ts';
import { Module, nameHash } from './module.ts';

export class Dropout extends Module {
  /** Calls in the current forward pass (one module may drop several tensors: each gets its own mask). */
  private calls = 0;
  private key: RandomKey | null = null;

  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  forward(graph: NodeGraph, x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (x.rows !== graph.numNodes) {
      throw new RangeError(`Dropout ${this.describePath()}: input ${x} has ${x.rows} rows but the graph has ${graph.numNodes} nodes`);
    }
    // The engine sets a new random key each step: the count restarts, in the same order on every worker.
    if (graph.random !== this.key) {
      this.key = graph.random;
      this.calls = 0;
    }
    const call = this.calls++;
    return dropout(x, {
      p: this.p,
      seed: graph.random.seed,
      stream: (RNG_STREAM.dropout ^ nameHash(call ? `${this.path}#${call}` : this.path)) >>> 0,
      step: graph.random.step,
      ...(graph.rowIds ? { rowIds: graph.rowIds } : {}),
    });
  }
}
