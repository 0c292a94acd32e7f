// Early stopping on a validation score, reporting the test figures of the best validation epoch, as
// PyG's examples and the GCN paper's protocol do. Node classification compares validation accuracy
// (ties broken by lower validation loss); temporal link prediction compares validation AP.

import type { EpochMetrics } from './engine.ts';

/** Whether epoch `a` is better than the best so far, `b`. */
export type Better<M> = (a: M, b: M) => boolean;

/** Higher validation accuracy, ties broken by lower validation loss. */
export const byValidationAccuracy: Better<EpochMetrics> = (a, b) => a.valAcc > b.valAcc || (a.valAcc === b.valAcc && a.valLoss < b.valLoss);

export interface SavedEarlyStopping<M> {
  best: M | null;
  sinceBest: number;
}

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
    // An epoch without an evaluation (pipe mode's --eval-every) counts towards patience but is never the best.
    const evaluated = (m as { evaluated?: boolean }).evaluated !== false;
    if (evaluated && (!this.best || this.better(m, this.best))) {
      this.best = m;
      this.sinceBest = 0;
    } else {
      this.sinceBest++;
    }
    return this.patience > 0 && this.sinceBest >= this.patience;
  }

  /** What a checkpoint keeps (under `extra.earlyStopping`), so that a resumed run counts on from the same best epoch. */
  get saved(): SavedEarlyStopping<M> {
    return { best: this.best, sinceBest: this.sinceBest };
  }

  /** Restores `extra.earlyStopping` of a checkpoint when it has one; a malformed one is refused. */
  restoreFrom(extra: Record<string, unknown> | undefined): void {
    const saved = extra?.earlyStopping;
    if (saved === undefined) return;
    const s = saved as Partial<SavedEarlyStopping<M>> | null;
    const sinceOk = typeof s?.sinceBest === 'number' && Number.isInteger(s.sinceBest) && s.sinceBest >= 0;
    const bestOk = s?.best === null || (typeof s?.best === 'object' && s.best !== null && Number.isInteger((s.best as { epoch?: unknown }).epoch));
    if (!s || !sinceOk || !bestOk) throw new Error(`the checkpoint's early-stopping state is malformed: ${JSON.stringify(saved)?.slice(0, 200)}`);
    this.best = s.best as M | null;
    this.sinceBest = s.sinceBest as number;
  }
}
