// DistTGL from the package: TGN trained by two trainers, one worker thread and device each, with memory
// parallelism (1×1×2: two copies of node memory that never meet; only gradients travel). Each epoch is two
// passes over the stream, one per memory copy. Same data as tgn-own-csv.mjs.
//   node examples/disttgl-threads.mjs        (EPOCHS=2 for a quick look)
import { parseParallel, splitEvents, TGN_DEFAULTS } from 'webgnn';
import { DistTglThreads, loadEvents } from 'webgnn/node';

const stream = await loadEvents(new URL('./data/messages.csv', import.meta.url).pathname);
const split = splitEvents(stream, { seed: 0 });
const layout = parseParallel('memory', 2);
const { engine } = await DistTglThreads.start(
  { stream, split, tgn: { ...TGN_DEFAULTS, numNodes: stream.numNodes, edgeDim: stream.edgeDim }, options: { seed: 0, lr: 1e-3, batchSize: 100, layout } },
  2,
);
try {
  for await (const m of engine.run(Number(process.env.EPOCHS ?? 5))) {
    const perTrainer = m.eventsPerSecondPerTrainer.map((e) => e.toFixed(0)).join(' + ');
    console.log(`epoch ${m.epoch} (${m.passes} passes): loss ${m.loss.toFixed(4)}, validation AP ${m.valAp.toFixed(4)}, test AP ${m.testAp.toFixed(4)}, ${perTrainer} events/s`);
  }
} finally {
  await engine.dispose();
}
