// The body of one SAR worker thread: its own Dawn instance and device, a ThreadTransport to the other
// threads, and a SarWorker driven by the main thread's commands ('epoch', 'snapshot', 'stop', and 'crash',
// the tests' way to lose a worker mid-epoch).

import { parentPort, workerData } from 'node:worker_threads';
import { ThreadTransport } from '../dist/thread-transport.ts';
import { checkPartitionable } from '../engines/sar/partition-check.ts';
import { SarWorker } from '../engines/sar/sar-worker.ts';
import type { SarThreadData } from './sar-threads.ts';
import { modelFactory } from './model-source.ts';
import { createNodeGpu } from './node-gpu.ts';

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

port.on('message', async (command: { type: 'epoch' | 'snapshot' | 'stop' | 'crash' }) => {
  // Mid-epoch, as soon as no read from the device is pending (dawn.node aborts the whole process when a
  // thread ends with a mapAsync unsettled): the thread ends without a goodbye.
  if (command.type === 'crash') return gpu.waits.whenIdle().then(() => process.exit(70));
  if (command.type === 'stop') return stop();
  try {
    if (command.type === 'epoch') port.postMessage({ type: 'epoch', result: await worker.trainEpoch() });
    else port.postMessage({ type: 'snapshot', data: await worker.snapshot(data.describe) });
  } catch (error) {
    port.postMessage(errorReply(error));
  }
});
port.postMessage(refused ? errorReply(refused) : { type: 'ready', device: gpu.report });

function errorReply(error: unknown) {
  const e = error as Error;
  return { type: 'error', name: e.name, message: e.message, peer: (e as { peer?: number }).peer };
}

/**
 * Frees everything, then lets the thread end by itself: the device is destroyed only once nothing of it
 * is in flight (Gpu.close), and the main thread waits for this thread's exit instead of terminating it
 * (a thread ended while dawn.node is inside a call aborts the whole process).
 */
async function stop(): Promise<void> {
  let failure: unknown = null;
  try {
    worker.dispose();
    await transport.close();
  } catch (error) {
    failure = error;
  }
  await gpu.close();
  port.postMessage(failure ? errorReply(failure) : { type: 'stopped' });
  port.close();
}
