// Early stopping on a validation score, reporting the test figures of the best validation epoch, as
// PyG's examples and the GCN paper's protocol do. Node classification compares validation accuracy
// (ties broken by lower validation loss); temporal link prediction compares validation AP.

import type { EpochMetrics } from './engine.ts';

/** Whether epoch `a` is better than the best so far, `b`. */
export type Better<M> = (a: M, b: M) => boolean;

/** Higher validation accuracy, ties broken by lower validation loss. */
export const byValidationAccuracy: Better<EpochMetrics> = (a, b) => a.valAcc > b.valAcc || (a.valAcc === b.valAcc && a.valLoss < b.valLoss);

export class EarlyStopping<M = EpochMetrics> {
  best: M | null = null;
  private sinceBest = 0;

  /** `patience` epochs without improvement stop training; 0 disables stopping. */
  constructor(
    readonly patience: number,
    private readonly better: Better<M> = byValidationAccuracy as unknown as Better<M>,
  ) {}

  /** Returns true when training should stop. */
  update(m: M): boolean {
    if (!this.best || this.better(m, this.best)) {
      this.best = m;
      this.sinceBest = 0;
    } else {
      this.sinceBest++;
    }
    return this.patience > 0 && this.sinceBest >= this.patience;
  }

  restore(best: M | null, sinceBest: number): void {
    this.best = best;
    this.sinceBest = sinceBest;
  }

  get epochsSinceBest(): number {
    return this.sinceBest;
  }
}
