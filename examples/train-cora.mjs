// Trains the residual GCN of models/residual-gcn.mjs on the embedded Cora, on one device.
//   node examples/train-cora.mjs            (EPOCHS=20 for a quick look)
import { loadDataset, train } from 'webgnn/node';
import { ResidualGCN } from './models/residual-gcn.mjs';

const cora = await loadDataset('cora');
const model = new ResidualGCN(cora.numFeatures, 64, cora.numClasses);
const result = await train(model, cora, { epochs: Number(process.env.EPOCHS ?? 200), lr: 0.01, weightDecay: 5e-4 });
console.log(`test accuracy ${(100 * result.testAcc).toFixed(1)}% at epoch ${result.bestEpoch} of ${result.epochsRun}`);
