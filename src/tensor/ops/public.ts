// The differentiable ops a model's forward composes, gathered for `import { ops } from 'webgnn'`
// (as torch.nn.functional): ops.relu(x), ops.add(a, b) for a residual, ops.concatColumns([a, b]), …

export { elu, leakyRelu, relu } from './activation.ts';
export { add, addBias, scale } from './elementwise.ts';
export { matmul } from './matmul.ts';
export { spmm } from './spmm.ts';
export { dropout } from './dropout.ts';
export { concatColumns, sliceColumns, sliceRows } from './layout.ts';
export { layerNorm } from './layer-norm.ts';
export { gatherRows } from './rows.ts';
export { sumColumns, total } from './reduce.ts';
export { accuracyCounts, crossEntropy, predict } from './cross-entropy.ts';
export { binaryCrossEntropyWithLogits } from './binary-cross-entropy.ts';
