// The same model under SAR: 2 workers, each its own device and half of Cora's nodes, every replica built
// by the same factory. SAR is exact: the loss of every epoch matches one device's to float rounding.
//   node examples/train-cora-sar.mjs        (EPOCHS=20 for a quick look)
import { loadDataset, train } from 'webgnn/node';
import { ResidualGCN } from './models/residual-gcn.mjs';

const cora = await loadDataset('cora');
const makeModel = () => new ResidualGCN(cora.numFeatures, 64, cora.numClasses);
const epochs = Number(process.env.EPOCHS ?? 200);
const single = await train(makeModel(), cora, { epochs });
const sar = await train(makeModel, cora, { epochs, mode: 'sar', workers: 2 });
const gap = Math.max(...sar.history.map((m, i) => Math.abs(m.loss - single.history[i].loss) / single.history[i].loss));
console.log(`one device: test accuracy ${(100 * single.testAcc).toFixed(1)}%; SAR, 2 workers: ${(100 * sar.testAcc).toFixed(1)}%`);
console.log(`largest relative loss difference over ${sar.history.length} epochs: ${gap.toExponential(1)}`);
console.log(`peak GPU memory per worker: ${sar.peakGpuBytesPerWorker.map((b) => (b / 2 ** 20).toFixed(1)).join(', ')} MiB (one device ${(single.peakGpuBytesPerWorker[0] / 2 ** 20).toFixed(1)} MiB)`);
