// The body of one SAR worker thread: its own Dawn instance and device, a ThreadTransport to the other
// threads, and a SarWorker driven by the main thread's commands ('epoch', 'snapshot', 'stop', and 'crash',
// the tests' way to lose a worker mid-epoch).

import { parentPort, workerData } from 'node:worker_threads';
import { ThreadTransport } from '../dist/thread-transport.ts';
import { SarWorker } from '../engines/sar/sar-worker.ts';
import type { SarThreadData } from './sar-threads.ts';
import { createNodeGpu } from './node-gpu.ts';

const data = workerData as SarThreadData;
const port = parentPort!;
const transport = new ThreadTransport(data.links);
const gpu = await createNodeGpu({ ...(data.adapter ? { name: data.adapter } : {}), label: `worker ${data.links.rank}` });
const worker = new SarWorker(gpu, transport, data.dataset, data.placement, data.config, data.training, { remat: data.remat }, data.resume);

port.on('message', async (command: { type: 'epoch' | 'snapshot' | 'stop' | 'crash' }) => {
  // Mid-epoch, as soon as no read from the device is pending (dawn.node aborts the whole process when a
  // thread ends with a mapAsync unsettled): the thread ends without a goodbye.
  if (command.type === 'crash') return gpu.waits.whenIdle().then(() => process.exit(70));
  try {
    if (command.type === 'epoch') port.postMessage({ type: 'epoch', result: await worker.trainEpoch() });
    else if (command.type === 'snapshot') port.postMessage({ type: 'snapshot', data: await worker.snapshot(data.describe) });
    else {
      worker.dispose();
      await transport.close();
      gpu.destroy();
      port.postMessage({ type: 'stopped' });
      port.close();
    }
  } catch (error) {
    const e = error as Error;
    port.postMessage({ type: 'error', name: e.name, message: e.message, peer: (e as { peer?: number }).peer });
  }
});
port.postMessage({ type: 'ready' });
