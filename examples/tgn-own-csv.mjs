// TGN on a CSV of one's own: one line per event, `src,dst,t` (optional label and feature columns after),
// here data/messages.csv: the first 3,000 messages of SNAP's CollegeMsg (1,899 students), as a file of one's own. The split is chronological
// 70/15/15 with TGN's inductive protocol; validation and test AP score each event against a random
// negative destination.
//   node examples/tgn-own-csv.mjs            (EPOCHS=2 for a quick look)
import { TemporalEngine, Tgn, TGN_DEFAULTS, splitEvents } from 'webgnn';
import { createNodeGpu, loadEvents } from 'webgnn/node';

const stream = await loadEvents(new URL('./data/messages.csv', import.meta.url).pathname);
const gpu = await createNodeGpu();
const tgn = new Tgn({ ...TGN_DEFAULTS, numNodes: stream.numNodes, edgeDim: stream.edgeDim });
const engine = new TemporalEngine(gpu, tgn, stream, splitEvents(stream, { seed: 0 }), { seed: 0, lr: 1e-3, batchSize: 100 });
for await (const m of engine.run(Number(process.env.EPOCHS ?? 10))) {
  console.log(`epoch ${m.epoch}: loss ${m.loss.toFixed(4)}, validation AP ${m.valAp.toFixed(4)}, test AP ${m.testAp.toFixed(4)}`);
}
await engine.dispose();
gpu.destroy();
