// Each built-in model's published Cora hyperparameters, for the flags a user did not give to `train`
// (and the widths `plan` takes): GCN: Kipf & Welling; GraphSAGE: PyG's example; GAT: Veličković et al.;
// GCNII: Chen et al., but 16 layers instead of the paper's 64 unless --layers says; ResGCN+ has no
// published Cora settings: GCNII's widths.

export interface ModelDefaults {
  hidden: number;
  heads?: number;
  layers?: number;
  lr: number;
  dropout: number;
  weightDecay: number;
  convWeightDecay?: number;
}

export const MODEL_DEFAULTS: Record<string, ModelDefaults> = {
  gcn: { hidden: 16, lr: 0.01, dropout: 0.5, weightDecay: 5e-4 },
  sage: { hidden: 16, lr: 0.01, dropout: 0.5, weightDecay: 5e-4 },
  gat: { hidden: 8, heads: 8, lr: 0.005, dropout: 0.6, weightDecay: 5e-4 },
  gcnii: { hidden: 64, layers: 16, lr: 0.01, dropout: 0.6, weightDecay: 5e-4, convWeightDecay: 0.01 },
  resgcn: { hidden: 64, layers: 8, lr: 0.01, dropout: 0.5, weightDecay: 5e-4 },
};
