// Early stopping on validation accuracy (ties broken by lower validation loss), reporting the test
// accuracy of the best validation epoch, as PyG's examples and the GCN paper's protocol do.

import type { EpochMetrics } from './engine.ts';

export class EarlyStopping {
  best: EpochMetrics | null = null;
  private sinceBest = 0;

  /** `patience` epochs without improvement stop training; 0 disables stopping. */
  constructor(readonly patience: number) {}

  /** Returns true when training should stop. */
  update(m: EpochMetrics): boolean {
    const b = this.best;
    if (!b || m.valAcc > b.valAcc || (m.valAcc === b.valAcc && m.valLoss < b.valLoss)) {
      this.best = m;
      this.sinceBest = 0;
    } else {
      this.sinceBest++;
    }
    return this.patience > 0 && this.sinceBest >= this.patience;
  }

  restore(best: EpochMetrics | null, sinceBest: number): void {
    this.best = best;
    this.sinceBest = sinceBest;
  }

  get epochsSinceBest(): number {
    return this.sinceBest;
  }
}
