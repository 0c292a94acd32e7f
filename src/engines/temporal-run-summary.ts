// What a TGN run reports over its epochs, one rule for the CLI's `train-temporal` and the demo's worker:
// the best validation AP's epoch (whose test figures are the run's), the mean training events per
// second, and MSPipe's chosen staleness over every training iteration. A diverged epoch ends the run.

import type { CheckpointData } from '../nn/checkpoint.ts';
import { EarlyStopping } from './early-stopping.ts';
import type { EvaluationMetric } from './link-metrics.ts';
import type { TemporalEngine, TemporalEpochMetrics } from './temporal.ts';

export type TemporalStalenessSummary = TemporalEpochMetrics['staleness'];

export class TemporalRunSummary {
  readonly stopping: EarlyStopping<TemporalEpochMetrics>;
  last: TemporalEpochMetrics | null = null;
  private readonly rates: number[] = [];
  private readonly staleness: TemporalStalenessSummary[] = [];

  /**
   * `patience` epochs without a better validation figure stop the run; 0 never stops it. The figure is
   * validation AP, or validation MRR with `by` 'mrr' (as DistTGL keeps the model of the best MRR).
   */
  constructor(patience = 0, by: EvaluationMetric = 'ap') {
    const figure = (m: TemporalEpochMetrics) => (by === 'mrr' ? (m.valMrr ?? NaN) : m.valAp);
    this.stopping = new EarlyStopping<TemporalEpochMetrics>(patience, (a, b) => figure(a) > figure(b));
  }

  /**
   * Takes an epoch's metrics; returns true when early stopping says to stop. A loss that is not finite is
   * refused (`lowerLr` names the learning-rate setting where the user meets it).
   */
  add(m: TemporalEpochMetrics, lowerLr = 'learning rate'): boolean {
    if (!Number.isFinite(m.loss)) throw new Error(`training diverged at epoch ${m.epoch}: loss ${m.loss} (try a lower ${lowerLr})`);
    this.last = m;
    this.rates.push(m.eventsPerSecond);
    this.staleness.push(m.staleness);
    return this.stopping.update(m);
  }

  /** The engine's checkpoint with early stopping's state, so that `--resume` reports the best epoch of the whole run. */
  async checkpoint(engine: Pick<TemporalEngine, 'snapshot'>): Promise<CheckpointData> {
    const data = await engine.snapshot();
    data.extra = { ...data.extra, earlyStopping: this.stopping.saved };
    return data;
  }

  /** Whether the epoch taken last is the best so far (its state is the one worth keeping). */
  get lastIsBest(): boolean {
    return this.last !== null && this.best === this.last;
  }

  /**
   * The checkpoint of the best validation epoch: the engine's state now when the epoch just taken is
   * the best so far, else null (the one kept at the best epoch stands). What `train-temporal
   * --checkpoint` writes, so the checkpointed epoch is the reported one.
   */
  async checkpointIfBest(engine: Pick<TemporalEngine, 'snapshot'>): Promise<CheckpointData | null> {
    return this.lastIsBest ? this.checkpoint(engine) : null;
  }

  get best(): TemporalEpochMetrics | null {
    return this.stopping.best;
  }

  /** Mean of the epochs' training events per second; null before an epoch. */
  get eventsPerSecond(): number | null {
    return this.rates.length ? mean(this.rates) : null;
  }

  /** Chosen k per training iteration over the run (each epoch's mean weighted alike), and its maximum. */
  get stalenessSummary(): TemporalStalenessSummary {
    const s = this.staleness;
    return {
      mean: s.length ? mean(s.map((c) => c.mean)) : 0,
      max: s.length ? Math.max(...s.map((c) => c.max)) : 0,
      inFlightMean: s.length ? mean(s.map((c) => c.inFlightMean)) : 0,
      staleRows: s.reduce((a, c) => a + c.staleRows, 0),
    };
  }
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
