// The body of one DistTGL trainer thread: its own Dawn instance and device, a ThreadTransport to the other
// trainers, its replica of TGN, and a DistTglTrainer driven by the main thread's 'epoch' and 'state' commands
// (and the shared 'stop' and 'crash' of thread-serve.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { ThreadTransport } from '../dist/thread-transport.ts';
import { DistTglTrainer } from '../engines/temporal/disttgl-trainer.ts';
import { Tgn } from '../nn/tgn/tgn.ts';
import type { DistTglThreadData } from './disttgl-threads.ts';
import { createNodeGpu } from './node-gpu.ts';
import { errorReply, serveCommands } from './thread-serve.ts';

const data = workerData as DistTglThreadData;
const port = parentPort!;
const transport = new ThreadTransport(data.links);
const gpu = await createNodeGpu({ name: data.adapter, label: `trainer ${data.links.rank}` });
let trainer: DistTglTrainer | null = null;
let refused: unknown = null;
try {
  trainer = new DistTglTrainer(gpu, transport, new Tgn(data.tgn), data.stream, data.split, data.options, data.resume);
} catch (error) {
  refused = error; // answered instead of 'ready'; the thread stays up to be stopped like the others
}

serveCommands(
  port,
  gpu,
  transport,
  async (command) => (command.type === 'state' ? { type: 'state', state: await trainer!.state() } : { type: 'epoch', result: await trainer!.trainEpoch() }),
  () => trainer?.dispose(),
);
port.postMessage(refused ? errorReply(refused) : { type: 'ready', device: gpu.report });
