// The body of one SAR worker thread: its own Dawn instance and device, a ThreadTransport to the other
// threads, and a SarWorker driven by the main thread's commands ('epoch', 'snapshot', and the shared
// 'stop' and 'crash' of thread-serve.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { ThreadTransport } from '../dist/thread-transport.ts';
import { checkPartitionable } from '../engines/sar/partition-check.ts';
import { SarWorker } from '../engines/sar/sar-worker.ts';
import type { SarThreadData } from './sar-threads.ts';
import { modelFactory } from './model-source.ts';
import { createNodeGpu } from './node-gpu.ts';
import { errorReply, serveCommands } from './thread-serve.ts';

const data = workerData as SarThreadData;
const port = parentPort!;
const transport = new ThreadTransport(data.links);
const gpu = await createNodeGpu({ name: data.adapter, subgroups: data.subgroups, label: `worker ${data.links.rank}` });
const model = (await modelFactory(data.model))();
const worker = new SarWorker(gpu, transport, data.dataset, data.placement, model, data.training, { remat: data.remat }, data.resume);
// One thread checks, before training starts, that SAR can split what the model does (every replica is the
// same). A refusal is this thread's answer to 'ready': it stays up to be stopped like the others (a thread
// ending with its device open would not be a clean end).
let refused: unknown = null;
if (data.links.rank === 0) await checkPartitionable(gpu, model, data.dataset.numFeatures).catch((error: unknown) => (refused = error));

serveCommands(
  port,
  gpu,
  transport,
  async (command) => (command.type === 'epoch' ? { type: 'epoch', result: await worker.trainEpoch() } : { type: 'snapshot', data: await worker.snapshot(data.describe) }),
  () => worker.dispose(),
);
port.postMessage(refused ? errorReply(refused) : { type: 'ready', device: gpu.report });
