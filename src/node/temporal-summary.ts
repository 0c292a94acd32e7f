// The fields of train-temporal's JSON summary that one trainer and many share: the best validation epoch's
// figures (the run's reported ones, as for node classification), MRR when asked, static memory, and the
// last epoch's loss and test AP.

import type { TemporalEpochMetrics } from '../engines/temporal.ts';
import { describeStaticMemory, type StaticMemoryPhase } from './static-memory-phase.ts';

export function bestEpochFields(best: TemporalEpochMetrics | null, last: TemporalEpochMetrics | null, metric: 'ap' | 'mrr', staticPhase: StaticMemoryPhase | null) {
  return {
    best_epoch: best?.epoch ?? null,
    // At the epoch of the best validation AP (of the best validation MRR with --metric mrr).
    test_ap: best?.testAp ?? null,
    test_auc: best?.testAuc ?? null,
    inductive_ap: best?.inductiveAp ?? null,
    inductive_auc: best?.inductiveAuc ?? null,
    val_ap: best?.valAp ?? null,
    metric,
    // Mean reciprocal rank of the true destination against 49 negatives (--metric mrr), at the best epoch.
    test_mrr: best?.testMrr ?? null,
    val_mrr: best?.valMrr ?? null,
    static_memory: describeStaticMemory(staticPhase),
    final_test_ap: last?.testAp ?? null,
    final_loss: last?.loss ?? null,
  };
}
