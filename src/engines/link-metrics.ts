// Ranking metrics of link prediction, on the CPU in float64, as scikit-learn computes them:
// average precision (average_precision_score: Σ_k (R_k − R_{k−1})·P_k over distinct score thresholds)
// and ROC AUC (roc_auc_score: the Mann–Whitney statistic, ties counted as one half).

/** Scores of positives (label 1) and negatives (label 0). */
export interface ScoredPairs {
  positive: ArrayLike<number>;
  negative: ArrayLike<number>;
}

function ranked(s: ScoredPairs): { score: Float64Array; label: Uint8Array } {
  const n = s.positive.length + s.negative.length;
  const score = new Float64Array(n);
  const label = new Uint8Array(n);
  for (let i = 0; i < s.positive.length; i++) {
    score[i] = s.positive[i];
    label[i] = 1;
  }
  for (let i = 0; i < s.negative.length; i++) score[s.positive.length + i] = s.negative[i];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  return { score: Float64Array.from(order, (i) => score[i]), label: Uint8Array.from(order, (i) => label[i]) };
}

export function averagePrecision(s: ScoredPairs): number {
  const totalPositive = s.positive.length;
  if (totalPositive === 0) return NaN;
  const { score, label } = ranked(s);
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let previousRecall = 0;
  for (let i = 0; i < score.length; i++) {
    if (label[i]) tp++;
    else fp++;
    // Only at the end of a run of equal scores is there a threshold.
    if (i + 1 < score.length && score[i + 1] === score[i]) continue;
    const recall = tp / totalPositive;
    ap += (recall - previousRecall) * (tp / (tp + fp));
    previousRecall = recall;
  }
  return ap;
}

export function rocAuc(s: ScoredPairs): number {
  const P = s.positive.length;
  const N = s.negative.length;
  if (P === 0 || N === 0) return NaN;
  const { score, label } = ranked(s);
  // Walk from the highest score: each negative is outranked by the positives seen so far; ties share.
  let positivesAbove = 0;
  let pairs = 0;
  for (let i = 0; i < score.length; ) {
    let j = i;
    let tiedPositive = 0;
    let tiedNegative = 0;
    while (j < score.length && score[j] === score[i]) {
      if (label[j]) tiedPositive++;
      else tiedNegative++;
      j++;
    }
    pairs += tiedNegative * (positivesAbove + tiedPositive / 2);
    positivesAbove += tiedPositive;
    i = j;
  }
  return pairs / (P * N);
}

/** What evaluation ranks by: 'ap' (each event against one negative: AP, AUC) or also 'mrr' (against 49). */
export type EvaluationMetric = 'ap' | 'mrr';

export function checkMetric(metric: EvaluationMetric | undefined): EvaluationMetric {
  const m = metric ?? 'ap';
  if (m !== 'ap' && m !== 'mrr') throw new RangeError(`metric must be 'ap' or 'mrr', got '${String(metric)}'`);
  return m;
}

/** Validation and test MRR from per-event reciprocal ranks, when evaluation ranked (else nothing). */
export function meanReciprocalRanks(val: { reciprocalRank: Float32Array | null }, test: { reciprocalRank: Float32Array | null }): { valMrr?: number; testMrr?: number } {
  if (!val.reciprocalRank || !test.reciprocalRank) return {};
  return { valMrr: meanOf(val.reciprocalRank), testMrr: meanOf(test.reciprocalRank) };
}

function meanOf(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length ? sum / values.length : NaN;
}
